package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Output formats.
const (
	outputTable = "table"
	outputJSON  = "json"
)

// table is a simple aligned table for human output.
type table struct {
	header []string
	rows   [][]string
}

func newTable(header ...string) *table { return &table{header: header} }

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// write prints the table. On a terminal the header is printed; otherwise
// rows only, tab-separated, for cut and awk.
func (t *table) write(w io.Writer, tty bool) error {
	if !tty {
		for _, r := range t.rows {
			if _, err := fmt.Fprintln(w, strings.Join(r, "\t")); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(t.header) > 0 {
		fmt.Fprintln(tw, strings.Join(t.header, "\t"))
	}
	for _, r := range t.rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// writeJSON prints v as indented JSON followed by a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// keyValues is a two-column "field: value" listing for single objects.
type keyValues struct {
	keys []string
	vals []string
}

func (kv *keyValues) add(k, v string) {
	if v == "" {
		return
	}
	kv.keys = append(kv.keys, k)
	kv.vals = append(kv.vals, v)
}

func (kv *keyValues) write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for i := range kv.keys {
		fmt.Fprintf(tw, "%s:\t%s\n", kv.keys[i], kv.vals[i])
	}
	return tw.Flush()
}
