package sqlresult

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

// ArrowBatchRows is the most rows of one Arrow record batch (and Parquet
// row group) of a result.
const ArrowBatchRows = 64 * 1024

// arrowBatchBytes ends a record batch early once its rows reach this size
// (RowSize), so wide rows do not pile up in the builders.
const arrowBatchBytes = 16 << 20

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

// arrowSchema is the schema of cols: every column nullable, with DuckDB's
// type name in the field metadata (key duckdb_type).
func arrowSchema(cols []Column) *arrow.Schema {
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{
			Name:     c.Name,
			Type:     arrowType(c.Type),
			Nullable: true,
			Metadata: arrow.NewMetadata([]string{"duckdb_type"}, []string{c.Type}),
		}
	}
	return arrow.NewSchema(fields, nil)
}

// arrowEncoder writes an Arrow IPC stream or, with parquet, a Parquet file
// (Snappy-compressed, one row group per record batch).
type arrowEncoder struct {
	w       io.Writer
	parquet bool
	cols    []Column
	b       *array.RecordBuilder
	write   func(arrow.RecordBatch) error
	close   func() error
	rows    int   // in the open batch
	bytes   int64 // of the open batch
}

func (e *arrowEncoder) Columns(cols []Column) error {
	e.cols = cols
	schema := arrowSchema(cols)
	e.b = array.NewRecordBuilder(memory.DefaultAllocator, schema)
	if e.parquet {
		props := parquet.NewWriterProperties(
			parquet.WithCompression(compress.Codecs.Snappy),
			parquet.WithMaxRowGroupLength(ArrowBatchRows),
		)
		fw, err := pqarrow.NewFileWriter(schema, e.w, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
		if err != nil {
			return err
		}
		e.write, e.close = fw.Write, fw.Close
		return nil
	}
	iw := ipc.NewWriter(e.w, ipc.WithSchema(schema), ipc.WithAllocator(memory.DefaultAllocator))
	e.write, e.close = iw.Write, iw.Close
	return nil
}

func (e *arrowEncoder) Row(vals []any) error {
	for i, v := range vals {
		if err := appendArrow(e.b.Field(i), v); err != nil {
			return fmt.Errorf("column %q: %w", e.cols[i].Name, err)
		}
	}
	e.rows++
	e.bytes += RowSize(vals)
	if e.rows >= ArrowBatchRows || e.bytes >= arrowBatchBytes {
		return e.flush()
	}
	return nil
}

func (e *arrowEncoder) flush() error {
	if e.rows == 0 {
		return nil
	}
	rec := e.b.NewRecordBatch()
	defer rec.Release()
	e.rows, e.bytes = 0, 0
	return e.write(rec)
}

func (e *arrowEncoder) Close(bool) error {
	if e.b == nil {
		return fmt.Errorf("no columns")
	}
	defer e.b.Release()
	if err := e.flush(); err != nil {
		e.close()
		return err
	}
	return e.close()
}

// appendArrow appends a JSON-native value to a builder of the type
// arrowType chose for its column.
func appendArrow(b array.Builder, v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	if sb, ok := b.(*array.StringBuilder); ok {
		sb.Append(TextCell(v))
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
			// TIMESTAMP without a zone is written without one.
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
