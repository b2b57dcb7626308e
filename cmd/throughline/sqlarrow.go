package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// arrowBatchRows is the most rows of one Arrow record batch (and Parquet
// row group) of a result.
const arrowBatchRows = 64 * 1024

// arrowType maps a DuckDB column type name to the Arrow type of its column.
// Types without a lossless Arrow counterpart here (HUGEINT, INTERVAL, UUID,
// BLOB, TIME, nested types, JSON, …) are strings: the text of the CSV
// output.
func arrowType(dbType string) arrow.DataType {
	switch dbType {
	case "BOOLEAN":
		return arrow.FixedWidthTypes.Boolean
	case "TINYINT":
		return arrow.PrimitiveTypes.Int8
	case "SMALLINT":
		return arrow.PrimitiveTypes.Int16
	case "INTEGER":
		return arrow.PrimitiveTypes.Int32
	case "BIGINT":
		return arrow.PrimitiveTypes.Int64
	case "UTINYINT":
		return arrow.PrimitiveTypes.Uint8
	case "USMALLINT":
		return arrow.PrimitiveTypes.Uint16
	case "UINTEGER":
		return arrow.PrimitiveTypes.Uint32
	case "UBIGINT":
		return arrow.PrimitiveTypes.Uint64
	case "FLOAT":
		return arrow.PrimitiveTypes.Float32
	case "DOUBLE":
		return arrow.PrimitiveTypes.Float64
	case "DATE":
		return arrow.FixedWidthTypes.Date32
	case "TIMESTAMP", "TIMESTAMPTZ", "TIMESTAMP_S", "TIMESTAMP_MS":
		return arrow.FixedWidthTypes.Timestamp_us
	case "TIMESTAMP_NS":
		return arrow.FixedWidthTypes.Timestamp_ns
	}
	if strings.HasPrefix(dbType, "DECIMAL") {
		return arrow.PrimitiveTypes.Float64
	}
	return arrow.BinaryTypes.String
}

// arrowSchema is the schema of res: every column nullable, with DuckDB's
// type name in the field metadata (key duckdb_type).
func arrowSchema(res *queryResult) *arrow.Schema {
	fields := make([]arrow.Field, len(res.Columns))
	for i, c := range res.Columns {
		fields[i] = arrow.Field{
			Name:     c.Name,
			Type:     arrowType(c.Type),
			Nullable: true,
			Metadata: arrow.NewMetadata([]string{"duckdb_type"}, []string{c.Type}),
		}
	}
	return arrow.NewSchema(fields, nil)
}

// arrowBatches calls fn with the rows of res as record batches of at most
// arrowBatchRows rows (none for an empty result).
func arrowBatches(schema *arrow.Schema, res *queryResult, fn func(arrow.RecordBatch) error) error {
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for start := 0; start < len(res.Rows); start += arrowBatchRows {
		end := min(start+arrowBatchRows, len(res.Rows))
		for _, row := range res.Rows[start:end] {
			for i, v := range row {
				if err := appendArrow(b.Field(i), v); err != nil {
					return fmt.Errorf("column %q: %w", res.Columns[i].Name, err)
				}
			}
		}
		rec := b.NewRecordBatch()
		err := fn(rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// appendArrow appends a JSON-native value (see jsonValue) to a builder of
// the type arrowType chose for its column.
func appendArrow(b array.Builder, v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	if sb, ok := b.(*array.StringBuilder); ok {
		sb.Append(textCell(v))
		return nil
	}
	switch bb := b.(type) {
	case *array.BooleanBuilder:
		x, ok := v.(bool)
		if !ok {
			return fmt.Errorf("%v (%T): want a boolean", v, v)
		}
		bb.Append(x)
		return nil
	case *array.Date32Builder:
		t, err := time.Parse("2006-01-02", fmt.Sprint(v))
		if err != nil {
			return err
		}
		bb.Append(arrow.Date32FromTime(t))
		return nil
	case *array.TimestampBuilder:
		s := fmt.Sprint(v)
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			// TIMESTAMP without a zone: jsonValue writes it without one.
			t, err = time.Parse("2006-01-02T15:04:05.999999999", s)
		}
		if err != nil {
			return err
		}
		ts, err := arrow.TimestampFromTime(t, bb.Type().(*arrow.TimestampType).Unit)
		if err != nil {
			return err
		}
		bb.Append(ts)
		return nil
	}
	// Numbers: json.Number, or "NaN", "Infinity", "-Infinity" for floats.
	s := fmt.Sprint(v)
	if n, ok := v.(json.Number); ok {
		s = n.String()
	}
	var err error
	switch bb := b.(type) {
	case *array.Int8Builder:
		var n int64
		n, err = strconv.ParseInt(s, 10, 8)
		bb.Append(int8(n))
	case *array.Int16Builder:
		var n int64
		n, err = strconv.ParseInt(s, 10, 16)
		bb.Append(int16(n))
	case *array.Int32Builder:
		var n int64
		n, err = strconv.ParseInt(s, 10, 32)
		bb.Append(int32(n))
	case *array.Int64Builder:
		var n int64
		n, err = strconv.ParseInt(s, 10, 64)
		bb.Append(n)
	case *array.Uint8Builder:
		var n uint64
		n, err = strconv.ParseUint(s, 10, 8)
		bb.Append(uint8(n))
	case *array.Uint16Builder:
		var n uint64
		n, err = strconv.ParseUint(s, 10, 16)
		bb.Append(uint16(n))
	case *array.Uint32Builder:
		var n uint64
		n, err = strconv.ParseUint(s, 10, 32)
		bb.Append(uint32(n))
	case *array.Uint64Builder:
		var n uint64
		n, err = strconv.ParseUint(s, 10, 64)
		bb.Append(n)
	case *array.Float32Builder:
		var f float64
		f, err = strconv.ParseFloat(s, 32)
		bb.Append(float32(f))
	case *array.Float64Builder:
		var f float64
		f, err = strconv.ParseFloat(s, 64)
		bb.Append(f)
	default:
		return fmt.Errorf("no conversion to %s", b.Type())
	}
	return err
}

// writeResultArrow writes res as an Arrow IPC stream.
func writeResultArrow(w io.Writer, res *queryResult) error {
	schema := arrowSchema(res)
	iw := ipc.NewWriter(w, ipc.WithSchema(schema), ipc.WithAllocator(memory.DefaultAllocator))
	if err := arrowBatches(schema, res, iw.Write); err != nil {
		iw.Close()
		return err
	}
	return iw.Close()
}

// writeResultParquet writes res as a Parquet file (Snappy-compressed, one
// row group per record batch).
func writeResultParquet(w io.Writer, res *queryResult) error {
	schema := arrowSchema(res)
	props := parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithMaxRowGroupLength(arrowBatchRows),
	)
	fw, err := pqarrow.NewFileWriter(schema, w, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return err
	}
	if err := arrowBatches(schema, res, fw.Write); err != nil {
		fw.Close()
		return err
	}
	return fw.Close()
}
