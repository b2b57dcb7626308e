// Package listing holds the rule the HTTP connectors reconcile by: a
// listing of the scope paged while the site changes can miss an item that
// is there, so an item is taken as gone only when two listings agree it is
// missing, or the source, asked about it directly, confirms it.
package listing

import (
	"context"
	"maps"
	"slices"
)

// Live lists the scope twice (list) and returns what is live in it (id →
// what the listing said): the ids both listings hold, as the second said
// them, and of the ids only one holds, those confirm (a direct look at the
// source) finds still there and in scope. odd is how many ids only one
// listing held.
func Live[T any](ctx context.Context, list func(context.Context) (map[string]T, error),
	confirm func(ctx context.Context, ids []string) (map[string]T, error)) (live map[string]T, odd int, err error) {
	first, err := list(ctx)
	if err != nil {
		return nil, 0, err
	}
	second, err := list(ctx)
	if err != nil {
		return nil, 0, err
	}
	live = map[string]T{}
	var ask []string
	for id, v := range second {
		if _, ok := first[id]; ok {
			live[id] = v
		} else {
			ask = append(ask, id)
		}
	}
	for id := range first {
		if _, ok := second[id]; !ok {
			ask = append(ask, id)
		}
	}
	if len(ask) == 0 {
		return live, 0, nil
	}
	slices.Sort(ask)
	confirmed, err := confirm(ctx, ask)
	if err != nil {
		return nil, 0, err
	}
	maps.Copy(live, confirmed)
	return live, len(ask), nil
}
