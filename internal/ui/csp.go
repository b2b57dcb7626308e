package ui

import "strings"

// styleHashes are the SHA-256 hashes of the <style> elements Observable Plot
// inserts into its charts (plot.umd.min.js 0.6.17, default class name). The
// policy allows exactly these inline styles and no inline script: a new
// Plot whose style text differs shows up as a CSP violation in the browser
// test (TestPagesInBrowser), which fails on any console error.
var styleHashes = []string{
	// :where(.plot-d6a7b5) { --plot-background: white; display: block; height: auto; ... }
	"'sha256-6kH0PEgVoEOXn+wcDE48MKCDpbE1eHDkc2EaT8NAnNU='",
	// :where(.plot-d6a7b5-swatches) { ... } (legends)
	"'sha256-cbMJ3+5PTUwuMjvm7iDO9NhQXdMiQWRE6gFlBgbHaSw='",
	"'sha256-bZeKNmPLr0ryZfu6AvwGFxyv0kHwc9SIrIZDyTeSSaA='",
}

// contentSecurityPolicy: scripts, styles, images and fetches from this
// server only; no inline script, no eval, no plugins, no framing, forms
// post only here.
var contentSecurityPolicy = strings.Join([]string{
	"default-src 'none'",
	"script-src 'self'",
	"style-src 'self' " + strings.Join(styleHashes, " "),
	"img-src 'self' data:",
	"font-src 'self'",
	"connect-src 'self'",
	"form-action 'self'",
	"frame-ancestors 'none'",
	"base-uri 'none'",
}, "; ")
