package ui

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
)

// CookieName is the session cookie the sign-in form sets.
const CookieName = "throughline_session"

// sameOrigin rejects state-changing requests from other origins (Sec-Fetch-Site
// and Origin headers): the sign-in form, and cookie-authenticated API calls.
var sameOrigin = http.NewCrossOriginProtection()

// sessionValue is the cookie value for a token: an HMAC of a fixed label
// under the token, so the cookie never carries the token itself, and
// changing the token signs every browser out.
func sessionValue(token string) string {
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write([]byte("throughline web session v1"))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// equal compares in constant time, without revealing lengths.
func equal(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// SessionOK reports whether r carries a valid session cookie for token and
// comes from this server's own pages (not a cross-origin request). The SQL
// API's auth calls it so that the console, signed in with the cookie, can
// post to POST /api/v1/sql. An empty token never matches.
func SessionOK(r *http.Request, token string) bool {
	if token == "" {
		return false
	}
	c, err := r.Cookie(CookieName)
	if err != nil || !equal(c.Value, sessionValue(token)) {
		return false
	}
	return sameOrigin.Check(r) == nil
}

// bearerOK reports whether r carries the token as a bearer token.
func bearerOK(r *http.Request, token string) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && equal(strings.TrimSpace(got), token)
}

// authorized reports whether r may see the pages: no token configured, or
// the bearer token, or the session cookie.
func (h *handler) authorized(r *http.Request) bool {
	return h.token == "" || bearerOK(r, h.token) || SessionOK(r, h.token)
}

func (h *handler) signIn(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.FormValue("next"))
	if h.token == "" {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	if r.Method == http.MethodGet {
		h.renderSignIn(w, r, http.StatusOK, next, "")
		return
	}
	if !equal(r.PostFormValue("token"), h.token) {
		h.logger.Info("web sign-in refused", "remote", r.RemoteAddr)
		h.renderSignIn(w, r, http.StatusUnauthorized, next, "That is not the token in server.sql_token_env.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: sessionValue(h.token), Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *handler) signOut(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

// localPath keeps a redirect target on this server: a path starting with a
// single slash, else "/".
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || strings.ContainsAny(p, "\r\n") {
		return "/"
	}
	return p
}
