package ui

import "strings"

// styleHashes are the SHA-256 hashes of the <style> elements Observable Plot
// inserts into its charts (plot.umd.min.js 0.6.17, default class name). The
// policy allows exactly these inline styles and no inline script: a new
// Plot whose style text differs shows up as a CSP violation in the browser
// test (TestPagesInBrowser), which fails on any console error.
var styleHashes = []string{
	"'sha256-jSYQUrW7J0b3jPqhZP9C2Xh1PyJKHKXd4s0fpGGKrww='", // :where(.plot-d6a7b5) …: every chart
	"'sha256-rCZUQsEQJf1DmnfnMZmlj08XC7qbIZySA6bEtitbQ00='", // :where(.plot-d6a7b5-swatches) …: colour legends
	"'sha256-/jg3HOQ97BIOLIR7iXhepLJanBbw11P39q1Ne1E+6Jc='", // :where(.plot-d6a7b5-ramp) …: the heat map's legend
}

// contentSecurityPolicy: scripts, styles, images and fetches from this
// server only; no inline script, no eval, no plugins, no framing, forms
// post only here.
var contentSecurityPolicy = strings.Join([]string{
	"default-src 'none'",
	"script-src 'self'",
	"style-src 'self' " + strings.Join(styleHashes, " "),
	"img-src 'self'",
	"font-src 'self'",
	"connect-src 'self'",
	"form-action 'self'",
	"frame-ancestors 'none'",
	"base-uri 'none'",
}, "; ")
