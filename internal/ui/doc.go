// Package ui serves Throughline's read-only web pages: a portfolio for
// leadership, team, milestone, capacity and data-quality pages, the
// assignment planner (metrics/plan on the model's inputs), and a SQL
// console for PMOs that posts to the SQL API.
//
// The pages render from a Model loaded once after each compute (Load,
// Store.Refresh): requests never query the warehouse. Charts are drawn in
// the browser by Observable Plot, vendored with its licence in assets/vendor
// and embedded in the binary; the numbers behind every chart are in a table
// and a CSV link. Every text from the sources is escaped by html/template or
// set as text by the scripts, and a Content-Security-Policy allows scripts
// from this server only.
package ui
