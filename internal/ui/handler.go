package ui

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"sync"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed assets
var assetFiles embed.FS

// Options are what the pages need from the server.
type Options struct {
	// Model returns the current page model; nil until the first load.
	Model func() *Model
	// Token is the token of server.sql_token_env; "" means the pages are
	// open (the server listens on loopback only).
	Token string
	// Logger logs refused sign-ins and rendering errors.
	Logger *slog.Logger
	// Version is shown in the footer.
	Version string
	// CachePages is how many rendered pages are kept for the current model
	// (a page is a function of the model and its address); 0 means 64,
	// negative none.
	CachePages int
}

type handler struct {
	Options
	token  string
	logger *slog.Logger
	pages  map[string]*template.Template
	assets map[string]*asset
	mux    *http.ServeMux
	cache  pageCache
}

// asset is an embedded file with its gzip form and a content hash.
type asset struct {
	name, ctype string
	body, gz    []byte
	hash        string
}

// New returns the handler of the web pages: mount it at "/" (it serves
// /signin, /signout, /assets/ and the pages). The SQL console posts to
// POST /api/v1/sql, served elsewhere.
func New(o Options) (http.Handler, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Model == nil {
		o.Model = func() *Model { return nil }
	}
	if o.CachePages == 0 {
		o.CachePages = 64
	}
	h := &handler{Options: o, token: o.Token, logger: o.Logger, pages: map[string]*template.Template{}, assets: map[string]*asset{},
		cache: pageCache{max: o.CachePages}}
	if err := h.loadAssets(); err != nil {
		return nil, err
	}
	if err := h.parseTemplates(); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /assets/{name}", h.serveAsset)
	mux.Handle("/signin", sameOrigin.Handler(http.HandlerFunc(h.signIn)))
	mux.Handle("POST /signout", sameOrigin.Handler(http.HandlerFunc(h.signOut)))
	for route, v := range views {
		mux.Handle("GET "+route, h.page(v))
	}
	mux.Handle("GET /csv/{page}/{table}", h.guard(http.HandlerFunc(h.serveCSV)))
	mux.Handle("/", h.guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.render(w, r, http.StatusNotFound, "notfound", &page{Title: "Not found", Model: o.Model()})
	})))
	h.mux = mux
	return h, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.mux.ServeHTTP(w, r)
}

// guard refuses requests without the token when one is configured: pages
// answer with the sign-in form (401), other requests with a plain 401.
func (h *handler) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.authorized(r) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="throughline"`)
		if strings.HasPrefix(r.URL.Path, "/csv/") {
			http.Error(w, "sign in first: the token of server.sql_token_env is required", http.StatusUnauthorized)
			return
		}
		h.renderSignIn(w, r, http.StatusUnauthorized, r.URL.RequestURI(), "")
	})
}

func (h *handler) renderSignIn(w http.ResponseWriter, r *http.Request, status int, next, msg string) {
	h.render(w, r, status, "signin", &page{Title: "Sign in", Bare: true, Data: struct{ Next, Error string }{localPath(next), msg}})
}

// page serves one view.
func (h *handler) page(v view) http.Handler {
	return h.guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := h.Model()
		if m == nil && v.needsModel {
			h.render(w, r, http.StatusServiceUnavailable, "loading", &page{Title: "Starting", Nav: v.nav})
			return
		}
		key := r.URL.RequestURI()
		if c := h.cache.get(m, key); c != nil {
			c.write(w, r)
			return
		}
		p, status := v.build(m, r)
		p.Model, p.Nav, p.View = m, v.nav, v.name
		if p.Title == "" {
			p.Title = v.title
		}
		c := h.renderPage(r, status, v.template, p)
		if c == nil {
			http.Error(w, "render page: see the server log", http.StatusInternalServerError)
			return
		}
		if status == http.StatusOK {
			h.cache.put(m, key, c)
		}
		c.write(w, r)
	}))
}

func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	c := h.renderPage(r, status, name, p)
	if c == nil {
		http.Error(w, "render page: see the server log", http.StatusInternalServerError)
		return
	}
	c.write(w, r)
}

// renderPage renders a page and compresses it; nil when rendering failed
// (logged).
func (h *handler) renderPage(r *http.Request, status int, name string, p *page) *rendered {
	t := h.pages[name]
	p.Version = h.Version
	p.Assets = h.assetURLs()
	p.Signed = h.token != ""
	p.Path = r.URL.Path
	if p.Charts != nil {
		// encoding/json escapes <, > and & (and U+2028/9), so the text cannot
		// end the script element; the element is data (application/json),
		// never run.
		js, err := json.Marshal(p.Charts)
		if err != nil {
			h.logger.Error("render page", "page", name, "err", err)
			return nil
		}
		p.ChartJSON = template.JS(js)
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", p); err != nil {
		h.logger.Error("render page", "page", name, "err", err)
		return nil
	}
	return newRendered(status, "text/html; charset=utf-8", b.Bytes())
}

// writeBody writes body, gzipped when the client accepts it.
func writeBody(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	w.Header().Add("Vary", "Accept-Encoding")
	if len(body) < 1024 || !acceptsGzip(r) {
		w.WriteHeader(status)
		w.Write(body)
		return
	}
	w.Header().Set("Content-Encoding", "gzip")
	w.WriteHeader(status)
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(w)
	zw.Write(body)
	zw.Close()
	gzipWriters.Put(zw)
}

var gzipWriters = sync.Pool{New: func() any {
	// Pages are compressed per request: the fastest level costs a few
	// percent of size and a third of the time. Assets are compressed once,
	// at the best level.
	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return zw
}}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(enc) == "gzip" && strings.ReplaceAll(params, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

func (h *handler) loadAssets() error {
	return fs.WalkDir(assetFiles, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := path.Base(p)
		var ctype string
		switch path.Ext(name) {
		case ".js":
			ctype = "text/javascript; charset=utf-8"
		case ".css":
			ctype = "text/css; charset=utf-8"
		case ".svg":
			ctype = "image/svg+xml"
		default:
			ctype = "text/plain; charset=utf-8" // licences and notes
		}
		body, err := assetFiles.ReadFile(p)
		if err != nil {
			return err
		}
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		zw.Write(body)
		zw.Close()
		sum := sha256.Sum256(body)
		h.assets[name] = &asset{name: name, ctype: ctype, body: body, gz: gz.Bytes(), hash: hex.EncodeToString(sum[:6])}
		return nil
	})
}

// assetURLs are the versioned addresses of the assets (cached for a year:
// a new build changes the version).
func (h *handler) assetURLs() map[string]string {
	out := make(map[string]string, len(h.assets))
	for name, a := range h.assets {
		out[name] = "/assets/" + name + "?v=" + a.hash
	}
	return out
}

func (h *handler) serveAsset(w http.ResponseWriter, r *http.Request) {
	a, ok := h.assets[r.PathValue("name")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", a.ctype)
	if r.URL.Query().Get("v") == a.hash {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Header().Set("ETag", `"`+a.hash+`"`)
	w.Header().Add("Vary", "Accept-Encoding")
	if r.Header.Get("If-None-Match") == `"`+a.hash+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if acceptsGzip(r) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", fmt.Sprint(len(a.gz)))
		w.Write(a.gz)
		return
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(a.body)))
	w.Write(a.body)
}

// rendered is a page ready to send: its body and gzip form.
type rendered struct {
	status   int
	ctype    string
	body, gz []byte
}

func newRendered(status int, ctype string, body []byte) *rendered {
	c := &rendered{status: status, ctype: ctype, body: body}
	if len(body) >= 1024 {
		var gz bytes.Buffer
		zw := gzipWriters.Get().(*gzip.Writer)
		zw.Reset(&gz)
		zw.Write(body)
		zw.Close()
		gzipWriters.Put(zw)
		c.gz = gz.Bytes()
	}
	return c
}

func (c *rendered) write(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", c.ctype)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Add("Vary", "Accept-Encoding")
	body := c.body
	if c.gz != nil && acceptsGzip(r) {
		w.Header().Set("Content-Encoding", "gzip")
		body = c.gz
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(c.status)
	w.Write(body)
}

// pageCache keeps rendered pages of one model: a new model empties it.
type pageCache struct {
	max   int
	mu    sync.Mutex
	model *Model
	pages map[string]*rendered
}

func (c *pageCache) get(m *Model, key string) *rendered {
	if c.max <= 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.model != m {
		return nil
	}
	return c.pages[key]
}

func (c *pageCache) put(m *Model, key string, r *rendered) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.model != m || len(c.pages) >= c.max {
		// A new model, or a full cache (many filter combinations): start over.
		c.model, c.pages = m, map[string]*rendered{}
	}
	c.pages[key] = r
}
