package engagement

import (
	"encoding/csv"
	"errors"
	"io"
	"strings"

	"seatlink/internal/linelimit"
	"seatlink/people"
)

// csvFile reads one of the CSV files schools import (a register, a
// timetable, a calendar): a header row naming the columns, in any case and
// with or without a byte-order mark, then rows read by column name. Row
// numbers are the file's lines as a spreadsheet numbers them.
type csvFile struct {
	cr   *csv.Reader
	col  map[string]int
	line int
	max  int // rows read before the file is refused as too long
}

// csvRow is one row of a csvFile.
type csvRow struct {
	N   int // its line
	rec []string
	f   *csvFile
}

// openCSV reads the header. alias maps the header's words (lower case) to
// column names; a word it does not list is the column's name itself. A
// header that cannot be read, or lacks a column in need, is refused with
// row errors.
func openCSV(r io.Reader, alias map[string]string, maxRows int, need ...string) (*csvFile, []people.RowError) {
	cr := csv.NewReader(linelimit.New(r, 0))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, linelimit.ErrTooLong) {
		return nil, []people.RowError{{Row: 1, Field: "header", Code: "line_too_long", Message: "the header is longer than 8 KiB"}}
	}
	if err != nil {
		return nil, []people.RowError{{Row: 1, Field: "header", Code: "bad_csv", Message: "the file has no readable header row"}}
	}
	f := &csvFile{cr: cr, col: map[string]int{}, line: 1, max: maxRows}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if a, ok := alias[h]; ok {
			h = a
		}
		if _, dup := f.col[h]; !dup {
			f.col[h] = i
		}
	}
	var errs []people.RowError
	for _, n := range need {
		if _, ok := f.col[n]; !ok {
			errs = append(errs, people.RowError{Row: 1, Field: n, Code: "missing_column", Message: "the header has no " + n + " column"})
		}
	}
	if errs != nil {
		return nil, errs
	}
	return f, nil
}

// next returns the next row that is not blank, or false at the end of the
// file or where reading must stop: a row that cannot be read, a file longer
// than its limit, or errs at the import's limit (the row error saying why
// is added to errs).
func (f *csvFile) next(errs *[]people.RowError) (csvRow, bool) {
	for {
		rec, err := f.cr.Read()
		f.line++
		row := csvRow{N: f.line, rec: rec, f: f}
		stop := func(code, msg string) (csvRow, bool) {
			*errs = append(*errs, row.error("row", code, msg))
			return row, false
		}
		switch {
		case errors.Is(err, io.EOF):
			return row, false
		case errors.Is(err, linelimit.ErrTooLong):
			return stop("line_too_long", "this row is longer than 8 KiB")
		case err != nil:
			return stop("bad_csv", "this row cannot be read as CSV")
		case len(*errs) >= people.MaxImportErrors || f.line-1 > f.max:
			return stop("too_many", "too many rows or errors")
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		return row, true
	}
}

// get is a column's value, trimmed ("" if the row is short).
func (r csvRow) get(name string) string {
	if i, ok := r.f.col[name]; ok && i < len(r.rec) {
		return strings.TrimSpace(r.rec[i])
	}
	return ""
}

// error is a row error on this row.
func (r csvRow) error(field, code, msg string) people.RowError {
	return people.RowError{Row: r.N, Field: field, Code: code, Message: msg}
}
