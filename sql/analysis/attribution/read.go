package attribution

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// PathSeparator joins the channels of a path in ChannelAttribution's files.
const PathSeparator = ">"

// ReadPaths reads paths in ChannelAttribution's format: a header line naming the columns
// path, total_conversions, total_conversion_value and total_null (any order, the last two
// optional), then one path a line, tab-separated when the header holds a tab and
// comma-separated (with CSV quoting) otherwise. A path's channels are joined by " > ";
// spaces around each channel are dropped, and an empty channel is an error.
func ReadPaths(r io.Reader) ([]Path, error) {
	cr, err := newPathsReader(r)
	if err != nil {
		return nil, err
	}
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("cannot read paths header: %w", err)
	}
	cols, err := pathColumns(header)
	if err != nil {
		return nil, err
	}
	var paths []Path
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return paths, nil
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read paths: %w", err)
		}
		line, _ := cr.FieldPos(0)
		p, err := cols.parse(rec)
		if err != nil {
			return nil, fmt.Errorf("cannot read path on line %d: %w", line, err)
		}
		paths = append(paths, p)
	}
}

// newPathsReader returns a CSV reader for r, tab-separated when its first line holds a tab.
func newPathsReader(r io.Reader) (*csv.Reader, error) {
	br := bufio.NewReader(r)
	first, err := br.Peek(4096)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("cannot read paths header: %w", err)
	}
	if nl := bytes.IndexByte(first, '\n'); nl >= 0 {
		first = first[:nl]
	}
	cr := csv.NewReader(skipBOM(br))
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	if bytes.IndexByte(first, '\t') >= 0 {
		cr.Comma = '\t'
		cr.LazyQuotes = true
	}
	return cr, nil
}

// skipBOM drops a UTF-8 byte order mark at the start of r.
func skipBOM(br *bufio.Reader) io.Reader {
	if b, err := br.Peek(3); err == nil && string(b) == "\ufeff" {
		_, _ = br.Discard(3)
	}
	return br
}

// columns holds the index of each known column in a record; -1 when absent.
type columns struct{ path, conv, value, null int }

// pathColumns finds the known columns in a header.
func pathColumns(header []string) (columns, error) {
	c := columns{path: -1, conv: -1, value: -1, null: -1}
	for i, h := range header {
		switch strings.ToLower(strings.TrimSpace(h)) {
		case "path":
			c.path = i
		case "total_conversions":
			c.conv = i
		case "total_conversion_value":
			c.value = i
		case "total_null":
			c.null = i
		}
	}
	if c.path < 0 || c.conv < 0 {
		return c, fmt.Errorf("cannot read paths header %q: want columns path and total_conversions "+
			"(and optionally total_conversion_value, total_null)", header)
	}
	return c, nil
}

// parse turns one record into a Path.
func (c columns) parse(rec []string) (Path, error) {
	var p Path
	var err error
	if p.Channels, err = splitPath(field(rec, c.path)); err != nil {
		return p, err
	}
	if p.Conversions, err = count(field(rec, c.conv), "total_conversions"); err != nil {
		return p, err
	}
	if p.Nulls, err = count(field(rec, c.null), "total_null"); err != nil {
		return p, err
	}
	v := field(rec, c.value)
	if v == "" {
		return p, nil
	}
	if p.Value, err = strconv.ParseFloat(v, 64); err != nil || !finite(p.Value) {
		return p, fmt.Errorf("cannot parse total_conversion_value %q: want a finite number", v)
	}
	return p, nil
}

// field returns rec[i] trimmed, or "" when the column is absent.
func field(rec []string, i int) string {
	if i < 0 || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

// count parses a non-negative count; empty means 0.
func count(s, name string) (float64, error) {
	if s == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !finite(f) || f < 0 {
		return 0, fmt.Errorf("cannot parse %s %q: want a finite number >= 0", name, s)
	}
	return f, nil
}

// splitPath splits "a > b > c" into its channels.
func splitPath(s string) ([]string, error) {
	if s == "" {
		return nil, errors.New("cannot parse an empty path: want channels joined by \" > \"")
	}
	parts := strings.Split(s, PathSeparator)
	for i, ch := range parts {
		parts[i] = strings.TrimSpace(ch)
		if parts[i] == "" {
			return nil, fmt.Errorf("cannot parse path %q: channel %d is empty", s, i+1)
		}
	}
	return parts, nil
}
