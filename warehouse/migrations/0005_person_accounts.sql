-- One person across sources: people holds one row per person (keyed by
-- email when a source shows it); person_accounts maps every account of a
-- source to its person.
CREATE TABLE person_accounts (
    account_id VARCHAR NOT NULL,
    source_id VARCHAR NOT NULL,
    external_id VARCHAR NOT NULL,
    person_id VARCHAR NOT NULL,
    display_name VARCHAR,
    email VARCHAR
);
COMMENT ON TABLE person_accounts IS 'Every account a person has in a source (Jira accountId or user key, Asana gid, CSV person) and the person it belongs to: accounts with the same email are one person.';
COMMENT ON COLUMN person_accounts.account_id IS 'Account id: <source>:<external id>.';
COMMENT ON COLUMN person_accounts.source_id IS 'Source id.';
COMMENT ON COLUMN person_accounts.external_id IS 'Vendor user id (Jira accountId or key, Asana gid) or the CSV person.';
COMMENT ON COLUMN person_accounts.person_id IS 'The person (people.person_id).';
COMMENT ON COLUMN person_accounts.display_name IS 'Display name in this source.';
COMMENT ON COLUMN person_accounts.email IS 'Email in this source, when it shows it.';

COMMENT ON TABLE people IS 'People: one row per person across sources (accounts with the same email are one person; see person_accounts).';
COMMENT ON COLUMN people.person_id IS 'Person id: person:<lower-case email> when a source shows the email, else <source>:<external id>.';
COMMENT ON COLUMN people.source_id IS 'Source that first saw the person.';
COMMENT ON COLUMN people.external_id IS 'Vendor user id (Jira accountId, Asana gid) or email for CSV, in the first source that saw the person.';

-- Existing rows: every person row is an account of itself.
INSERT INTO person_accounts
SELECT person_id, source_id, external_id, person_id, display_name, email FROM people;
