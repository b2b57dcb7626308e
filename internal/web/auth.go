package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// Auth checks bearer tokens. A token that is "" is not configured.
type Auth struct {
	// Token opens the API for reading: SQL and sync runs
	// (server.sql_token_env).
	Token string
	// AdminToken opens what writes: POST /api/v1/sync
	// (server.admin_token_env). It also opens what Token opens.
	AdminToken string
	// Disabled, when set, refuses every request with this message (a server
	// beyond loopback without a token).
	Disabled string
	// Session, when set, reports whether a request carries a valid session
	// of the web pages' sign-in (a cookie): Require accepts it like the
	// SQL token; RequireAdmin never does.
	Session func(*http.Request) bool
}

// Require wraps h: with a token configured, a request must carry the SQL
// or the admin token as `Authorization: Bearer <token>`, else 401.
func (a Auth) Require(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.refused(w) {
			return
		}
		if (a.Token != "" || a.AdminToken != "") && !bearer(r, a.Token) && !bearer(r, a.AdminToken) && (a.Session == nil || !a.Session(r)) {
			unauthorized(w, "missing or wrong bearer token (Authorization: Bearer <the token in server.sql_token_env>)")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// RequireAdmin wraps h, which changes the warehouse: it needs the admin
// token. The SQL token gets 403. Without an admin token configured, it is
// refused whenever a SQL token is (a loopback server without tokens stays
// open, as all of it is).
func (a Auth) RequireAdmin(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.refused(w) {
			return
		}
		switch {
		case a.AdminToken != "" && bearer(r, a.AdminToken):
		case a.AdminToken == "" && a.Token == "":
		case a.Token != "" && bearer(r, a.Token):
			w.Header().Set("Connection", "close")
			msg := "the SQL token cannot start a sync: use the admin token (server.admin_token_env)"
			if a.AdminToken == "" {
				msg = "starting a sync needs the admin token: set server.admin_token_env and export that variable"
			}
			Error(w, http.StatusForbidden, "forbidden", msg)
			return
		default:
			unauthorized(w, "missing or wrong bearer token (Authorization: Bearer <the token in server.admin_token_env>)")
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (a Auth) refused(w http.ResponseWriter) bool {
	if a.Disabled == "" {
		return false
	}
	w.Header().Set("Connection", "close")
	Error(w, http.StatusUnauthorized, "unauthorized", a.Disabled)
	return true
}

// unauthorized answers 401 and closes the connection: a client without the
// token gets no keep-alive and no time to trickle a body.
func unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="throughline"`)
	w.Header().Set("Connection", "close")
	Error(w, http.StatusUnauthorized, "unauthorized", msg)
}

// bearer reports whether r carries token (never true for ""). Both sides
// are hashed: the comparison is constant-time and does not reveal the
// token's length.
func bearer(r *http.Request, token string) bool {
	if token == "" {
		return false
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	want, have := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(strings.TrimSpace(got)))
	return ok && subtle.ConstantTimeCompare(want[:], have[:]) == 1
}
