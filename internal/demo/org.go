package demo

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Status and resolution names, as a Jira-style workflow spells them.
const (
	statusToDo       = "To Do"
	statusInProgress = "In Progress"
	statusInReview   = "In Review"
	statusBlocked    = "Blocked"
	statusDone       = "Done"

	resDone      = "Done"
	resWontDo    = "Won't Do"
	resDuplicate = "Duplicate"
)

// Item types.
const (
	typeStory   = "Story"
	typeTask    = "Task"
	typeBug     = "Bug"
	typeEpic    = "Epic"
	typeInc     = "Incident"
	typeRequest = "Service Request"
)

const emailDomain = "example.com"

// leaverEmail is a deliberate unknown person: a former platform engineer who
// appears as the assignee of old, finished items but in neither people.csv,
// worklogs.csv nor the config.
const leaverEmail = "jonas.keller@" + emailDomain

// contractorEmail belongs to no team: their items are attributed through the
// project's team (DATA → platform).
const contractorEmail = "rafael.costa@" + emailDomain

type teamDef struct {
	name     string
	hours    float64 // team default hours_per_week
	wipLimit int
	sleDays  int // 0: no sle_days in the config (the P85 is used)
	projects []string
	members  []memberDef
	logLoad  [2]float64 // share of capacity logged on a normal day (min, max)
}

type memberDef struct {
	local string // the part of the email before @
	hours float64
}

// teamDefs is the organisation. Order is output order.
var teamDefs = []teamDef{
	{
		name: "platform", hours: 40, wipLimit: 40, sleDays: 14, projects: []string{"WEB", "DATA"},
		logLoad: [2]float64{0.6, 0.85},
		members: []memberDef{
			{"anna.schmidt", 40}, {"ben.okafor", 40}, {"chloe.martin", 32}, {"david.nguyen", 40},
			{"elena.rossi", 36}, {"felix.wagner", 40}, {"grace.kim", 40},
		},
	},
	{
		name: "payments", hours: 40, wipLimit: 32, sleDays: 12, projects: []string{"PAY"},
		logLoad: [2]float64{0.65, 0.9},
		members: []memberDef{
			{"hannah.berg", 40}, {"ivan.petrov", 40}, {"julia.santos", 32},
			{"karim.haddad", 40}, {"lena.fischer", 38}, {"marco.bianchi", 40},
		},
	},
	{
		name: "mobile", hours: 38, wipLimit: 24, sleDays: 0, projects: []string{"APP"},
		logLoad: [2]float64{0.6, 0.85},
		members: []memberDef{
			{"nadia.hussain", 38}, {"oliver.brown", 38}, {"priya.patel", 32},
			{"quentin.moreau", 38}, {"sofia.lopez", 36},
		},
	},
	{
		name: "support-ops", hours: 40, wipLimit: 32, sleDays: 4, projects: []string{"OPS", "HELP"},
		logLoad: [2]float64{0.7, 0.95},
		members: []memberDef{
			{"tom.becker", 40}, {"uma.reddy", 40}, {"victor.almeida", 40}, {"wiebke.jansen", 32},
			{"xavier.dubois", 40}, {"yuki.tanaka", 36}, {"zoe.clarke", 40}, {"lukas.meyer", 40},
		},
	},
}

// overLoggedTeam logs clearly more than its capacity in the last
// overLogDays days (a release crunch).
const (
	overLoggedTeam = "mobile"
	overLogDays    = 42
)

type projectDef struct {
	key, name   string
	team        string
	operational bool
	share       float64 // share of generated items
	speed       float64 // cycle-time multiplier
	cadence     int     // days between releases; 0: no release milestones
	msName      string  // milestone name prefix, version appended
	msFirst     int     // first minor version
	types       []weighted
	// open milestones, relative to today
	open []openDef
	// days before today of the last completed release
	lastRelease int
}

type weighted struct {
	v string
	w float64
}

// Open milestones (due date not yet released), relative to today in days.
type openDef struct {
	kind     string // overdue, at_risk, on_track
	due      int
	baseline int
}

var projectDefs = []projectDef{
	{
		key: "WEB", name: "Web Storefront", team: "platform", share: 0.19, speed: 1.0, cadence: 42,
		msName: "Web 3.", msFirst: 1, lastRelease: 47,
		types: []weighted{{typeStory, 50}, {typeTask, 20}, {typeBug, 30}},
		open:  []openDef{{"overdue", -9, -23}, {"on_track", 38, 38}},
	},
	{
		key: "PAY", name: "Payments", team: "payments", share: 0.18, speed: 1.25, cadence: 49,
		msName: "Payments 2.", msFirst: 0, lastRelease: 26,
		types: []weighted{{typeStory, 45}, {typeTask, 25}, {typeBug, 30}},
		open:  []openDef{{"at_risk", 13, 6}, {"on_track", 68, 68}},
	},
	{
		key: "APP", name: "Mobile App", team: "mobile", share: 0.16, speed: 1.1, cadence: 35,
		msName: "App 5.", msFirst: 0, lastRelease: 36,
		types: []weighted{{typeStory, 50}, {typeTask, 15}, {typeBug, 35}},
		open:  []openDef{{"overdue", -6, -6}, {"at_risk", 17, 10}},
	},
	{
		key: "DATA", name: "Data Platform", team: "platform", share: 0.07, speed: 1.4, cadence: 63,
		msName: "Data M", msFirst: 1, lastRelease: 33,
		types: []weighted{{typeStory, 30}, {typeTask, 60}, {typeBug, 10}},
		open:  []openDef{{"on_track", 29, 22}},
	},
	{
		key: "OPS", name: "Operations", team: "support-ops", operational: true, share: 0.15, speed: 1.0,
		types: []weighted{{typeInc, 58}, {typeRequest, 42}},
	},
	{
		key: "HELP", name: "Help Desk", team: "support-ops", operational: true, share: 0.25, speed: 1.0,
		types: []weighted{{typeRequest, 86}, {typeInc, 14}},
	},
}

// The OPS observability migration: a small project inside an operational
// project. Its tasks and epic carry work_class=project explicitly (the
// config's operational rule would otherwise claim them by project).
// Explicit overrides in items.csv (see overrides).
const (
	paymentsReporting = 12 // DATA items with team=payments
	hotfixes          = 10 // WEB bugs with work_class=operational
)

const (
	migrationName      = "Observability migration"
	migrationTasks     = 14
	migrationStartDays = 118 // before today
	migrationDue       = 21  // after today
	migrationBaseline  = 7
)

type team struct {
	teamDef
	members []*person
}

type person struct {
	email string
	team  *team // nil: belongs to no team
	hours float64
	left  time.Time // leaver: last day at the company; zero otherwise

	off   map[time.Time]float64 // date → hours of time off
	spans []span                // assigned started items, for load balancing
	wins  []personWindow        // worked windows of assigned items, for worklogs
}

type span struct{ from, to time.Time }

type personWindow struct {
	it *item
	window
}

// dailyHours is the person's capacity on a working day.
func (p *person) dailyHours() float64 { return p.hours / 5 }

type project struct {
	projectDef
	team  *team
	items []*item
	ms    []*milestone
}

// pick returns a value drawn by weight.
func pick(r *rand.Rand, ws []weighted) string {
	var sum float64
	for _, w := range ws {
		sum += w.w
	}
	x := r.Float64() * sum
	for _, w := range ws {
		if x < w.w {
			return w.v
		}
		x -= w.w
	}
	return ws[len(ws)-1].v
}

func oneOf(r *rand.Rand, s []string) string { return s[r.IntN(len(s))] }

// Title vocabulary. A few titles carry commas, double quotes and non-ASCII
// letters on purpose, to exercise CSV quoting and UTF-8 handling.
var titleObjects = map[string][]string{
	"WEB": {"checkout page", "product listing", "search results", "account settings", "cart", "newsletter signup",
		"order history", "wishlist", "landing page", "CMS preview", "sitemap", "cookie banner", "image gallery",
		"header navigation", "store locator", "gift cards", "product reviews", "size guide"},
	"PAY": {"SEPA direct debit", "card tokenization", "refund flow", "3-D Secure challenge", "payout reconciliation",
		"PayPal integration", "invoice PDF", "chargeback webhook", "VAT calculation", "Klarna checkout",
		"fraud scoring", "settlement report", "Apple Pay", "currency conversion"},
	"APP": {"onboarding flow", "push notifications", "offline mode", "dark mode", "biometric login",
		"order tracking screen", "deep links", "in-app review prompt", "Android 15 support", "iOS widget",
		"barcode scanner", "home feed", "crash reporting", "app startup"},
	"DATA": {"orders ETL", "customer 360 table", "dbt model for refunds", "Airflow DAG for inventory",
		"GDPR deletion job", "churn dashboard", "event schema registry", "warehouse cost report",
		"clickstream ingestion", "data freshness checks", "marketing attribution model"},
	"OPS": {"checkout-api", "payments-gateway", "search-indexer", "auth-service", "postgres primary", "CDN",
		"Kafka cluster", "image-resizer", "build runners", "VPN gateway", "mail relay"},
}

var (
	storyVerbs = []string{"Add", "Redesign", "Support saved filters in", "Improve accessibility of", "Personalise",
		"Lazy-load images on", "A/B test", "Localise", "Speed up"}
	taskPatterns = []string{"Upgrade dependencies of %s", "Add monitoring for %s", "Remove feature flag for %s",
		"Document the %s API", "Load test %s", "Refactor %s module", "Write runbook for %s", "Migrate %s to the new design system"}
	bugSymptoms = []string{"returns HTTP 500 intermittently", "fails to load in Safari 17", "shows the wrong currency",
		"breaks on small screens", "times out under load", "loses state after login", "submits twice on double click",
		"shows stale data after an update", "fails on slow connections", "ignores the user's language"}
	incidentSymptoms = []string{"high error rate", "p99 latency above SLO", "disk 90% full", "pods in crash loop",
		"certificate expiring in 7 days", "5xx spike after deploy", "replication lag", "queue backlog growing",
		"memory leak", "health checks flapping"}
	opsRequests = []string{"Grant read access to %s", "Rotate credentials for %s", "Increase quota for %s",
		"Create staging copy of %s", "Whitelist partner IP on %s", "Restore backup of %s"}
	helpRequests = []string{"Customer cannot reset password", "Refund request for order #%d", "Change billing address",
		"Invoice copy for order #%d", "Delete my account (GDPR)", "Question about bulk order", "Promo code not accepted",
		"Parcel not delivered, order #%d", "Change email address on account", "Cancel subscription",
		"Payment declined but money reserved", "Request for VAT invoice"}
	helpIncidents = []string{"Login outage reported by customers", "Orders stuck in pending", "Customers receive duplicate emails",
		"Checkout unavailable for some customers", "Tracking links broken"}
	trickyTitles = map[string][]string{
		"WEB":  {`Button "Jetzt kaufen" overlaps footer, iPhone SE`, "Umlaute in Straßennamen (ä, ö, ü) break address validation"},
		"PAY":  {`Refund for order #48213, customer says "charged twice"`, "Support Überweisung (SOFORT), phase 2"},
		"APP":  {`Crash on "Continue" tap, Android 14, Pixel 7`, "Café menu icons blurry on iPad"},
		"DATA": {`Column "net_revenue" is NULL for 2%, investigate`},
		"HELP": {`Customer asks: "where is my order?", #77120`, "Adresse enthält ß, Lieferung scheitert"},
		"OPS":  {`Alert "DiskFull" on db-03, 2nd time this week`},
	}
)

func (g *gen) title(p *project, typ string) string {
	r := g.r
	if tt, ok := trickyTitles[p.key]; ok && r.Float64() < 0.006 {
		return oneOf(r, tt)
	}
	objs := titleObjects[p.key]
	switch typ {
	case typeStory:
		return oneOf(r, storyVerbs) + " " + oneOf(r, objs)
	case typeTask:
		return sprintf(oneOf(r, taskPatterns), oneOf(r, objs))
	case typeBug:
		o := oneOf(r, objs)
		return strings.ToUpper(o[:1]) + o[1:] + " " + oneOf(r, bugSymptoms)
	case typeInc:
		if p.key == "HELP" {
			return oneOf(r, helpIncidents)
		}
		return oneOf(r, titleObjects["OPS"]) + ": " + oneOf(r, incidentSymptoms)
	case typeRequest:
		if p.key == "HELP" {
			s := oneOf(r, helpRequests)
			if strings.Contains(s, "%d") {
				return strings.Replace(s, "%d", strconv.Itoa(40000+r.IntN(60000)), 1)
			}
			return s
		}
		return sprintf(oneOf(r, opsRequests), oneOf(r, titleObjects["OPS"]))
	}
	return typ
}

func sprintf(pattern, s string) string { return strings.Replace(pattern, "%s", s, 1) }

// migrationTitles in plan order; the last migrationTodo are not started yet.
var migrationTitles = []string{
	"Inventory existing Nagios checks", "Deploy Prometheus to production cluster", "Set up Grafana SSO",
	"Port disk and CPU alerts to Alertmanager", "Migrate service dashboards", "Set up long-term metrics storage",
	"Define SLOs for checkout-api", "Define SLOs for payments-gateway", "Add blackbox probes for public endpoints",
	"Configure on-call routing", "Write alert runbooks", "Tune noisy alerts", "Train team on PromQL", "Decommission Nagios server",
}

const migrationTodo = 3
