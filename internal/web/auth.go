package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// Auth checks bearer tokens. A token that is "" is not configured.
type Auth struct {
	// Token opens the API (server.sql_token_env).
	Token string
	// Disabled, when set, refuses every request with this message (a server
	// beyond loopback without a token).
	Disabled string
}

// Require wraps h: with a token configured, a request must carry it as
// `Authorization: Bearer <token>`, else 401 with a JSON error.
func (a Auth) Require(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.Disabled != "" {
			Error(w, http.StatusUnauthorized, "unauthorized", a.Disabled)
			return
		}
		if a.Token != "" && !bearer(r, a.Token) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="throughline"`)
			Error(w, http.StatusUnauthorized, "unauthorized", "missing or wrong bearer token (Authorization: Bearer <the token in server.sql_token_env>)")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// bearer reports whether r carries token. Both sides are hashed: the
// comparison is constant-time and does not reveal the token's length.
func bearer(r *http.Request, token string) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	want, have := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(strings.TrimSpace(got)))
	return ok && subtle.ConstantTimeCompare(want[:], have[:]) == 1
}
