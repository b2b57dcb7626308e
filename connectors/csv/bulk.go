package csv

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/throughline/throughline/ingest"
)

// The bulk path: when the store runs Bulk hand-overs (the warehouse, outside
// the locked-down serve process) and the large files are clean (scanCSV),
// the connector describes items.csv, status_changes.csv and worklogs.csv
// (ingest.CSVFile) and the warehouse reads them with DuckDB, applying in
// SQL the rules the row-by-row path applies in Go (parseItemRow,
// readChanges, history, readWorklogs): the same rows, the same problems
// with the same lines. A file that is not clean sends the whole import
// down the row-by-row path, whose problems say what is wrong. The import
// is one batch: it commits whole or not at all.

// bulkFile is one large file of the layout prepared for read_csv.
type bulkFile struct {
	name string
	path string
	pos  map[string]int // canonical column → field index
	scan fileScan
}

// prepareBulk checks the header and scans each large file present in
// paths. It returns why the bulk path cannot take them ("" when it can).
func prepareBulk(paths map[string]string, fp map[string]string, rename map[string]string) ([]bulkFile, string, error) {
	required := map[string][]string{
		fileItems:    {"key", "created_at"},
		fileChanges:  {"key", "changed_at", "to_status"},
		fileWorklogs: {"key", "started_at", "hours"},
	}
	var files []bulkFile
	for _, name := range []string{fileItems, fileChanges, fileWorklogs} {
		if fp[name] == "" {
			continue
		}
		f, err := os.Open(paths[name])
		if err != nil {
			return nil, "", fmt.Errorf("csv source: %w", err)
		}
		var ren map[string]string
		if name == fileItems {
			ren = rename
		}
		r, err := openCSV(name, f, required[name], ren)
		f.Close()
		if err != nil {
			return nil, "", err
		}
		files = append(files, bulkFile{name: name, path: paths[name], pos: r.h.pos})
	}
	// One pass over each file, in parallel.
	var wg sync.WaitGroup
	errs := make([]error, len(files))
	for i := range files {
		wg.Go(func() { files[i].scan, errs[i] = scanCSV(files[i].path) })
	}
	wg.Wait()
	for i, f := range files {
		if errs[i] != nil {
			return nil, "", errs[i]
		}
		if f.scan.unclean != "" {
			return nil, f.name + ": " + f.scan.unclean, nil
		}
		if f.name == fileItems && f.scan.records == 0 {
			return nil, "items.csv has no records", nil
		}
	}
	return files, "", nil
}

// syncBulk imports the folder in one bulk batch; first (firstBatch)
// carries the small files read in Go.
func (c *Connector) syncBulk(ctx context.Context, files []bulkFile, fp map[string]string, first ingest.Batch,
	emit func(context.Context, ingest.Batch) error) error {
	b := first
	bulk := &ingest.Bulk{Zone: c.cfg.Location.String(), People: fp[filePeople] == ""}
	for _, f := range files {
		bulk.Files = append(bulk.Files, ingest.CSVFile{Name: f.name, Path: f.path, Columns: f.pos, Fields: f.scan.fields,
			HeaderLines: f.scan.headerLines, Records: f.scan.records, Lines: f.scan.lines, MaxRecord: f.scan.maxRecord, Padded: f.scan.padded})
		bulk.Records += f.scan.records
	}
	b.Bulk = bulk
	b.Cursor = cursor{Files: fp}.encode()
	c.logger.Debug("bulk import", "path", c.cfg.Path, "records", bulk.Records)
	return emit(ctx, b)
}
