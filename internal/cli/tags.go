package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/nhkit/notificationhubs/internal/tagexpr"
	"github.com/spf13/cobra"
)

func newTagsCmd(f *factory) *cobra.Command {
	cmd := groupCmd("tags", "Work with tags and tag expressions", `  nh tags check 'sports || politics'`)
	cmd.AddCommand(newTagsCheckCmd(f))
	return cmd
}

type tagsCheckOptions struct {
	f       *factory
	expr    string
	devices string // auto, always, never
}

func newTagsCheckCmd(f *factory) *cobra.Command {
	opts := &tagsCheckOptions{f: f}
	cmd := &cobra.Command{
		Use:   "check EXPR",
		Short: "Validate a tag expression and show which devices it reaches",
		Long: `Check validates a tag expression with the service's grammar (!, &&, ||,
parentheses) and limits (20 tags with only ||, 6 otherwise, 120 characters
a tag), and explains an error with its position.

When a connection string is configured and its endpoint is on this machine
(an emulator), it also lists the registrations the expression would reach.
--devices=always lists them against any hub (it reads every registration).`,
		Example: `  nh tags check 'sports || politics'
  nh tags check '(sports && !politics) || $InstallationId:{dev-1}'
  nh tags check --devices=always 'sports'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.expr = args[0]
			switch opts.devices {
			case "auto", "always", "never":
			default:
				return usageErrorf("--devices must be auto, always or never, not %q", opts.devices)
			}
			return runTagsCheck(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.devices, "devices", "auto", "list reached registrations: auto (emulator only), always or never")
	return cmd
}

// tagCheckResult is the JSON output of nh tags check.
type tagCheckResult struct {
	Expression string          `json:"expression"`
	Valid      bool            `json:"valid"`
	Error      *tagCheckError  `json:"error,omitempty"`
	Tags       []string        `json:"tags,omitempty"`
	OnlyOr     bool            `json:"onlyOr"`
	Limit      int             `json:"limit"`
	Devices    []matchedDevice `json:"devices,omitempty"`
}

type tagCheckError struct {
	Message  string `json:"message"`
	Position int    `json:"position"`
}

type matchedDevice struct {
	RegistrationID string   `json:"registrationId"`
	Platform       string   `json:"platform"`
	Handle         string   `json:"handle"`
	Template       bool     `json:"template,omitempty"`
	Tags           []string `json:"tags,omitempty"`
}

func runTagsCheck(ctx context.Context, opts *tagsCheckOptions) error {
	f := opts.f
	res := tagCheckResult{Expression: opts.expr}
	expr, err := tagexpr.Parse(opts.expr)
	if err != nil {
		var se *tagexpr.SyntaxError
		if !errors.As(err, &se) {
			return fmt.Errorf("check tag expression: %w", err)
		}
		res.Error = &tagCheckError{Message: se.Msg, Position: se.Pos}
		if f.output == outputJSON {
			if err := writeJSON(f.io.Out, res); err != nil {
				return err
			}
		} else {
			fmt.Fprintf(f.io.Err, "error: invalid tag expression: %s (at position %d)\n", se.Msg, se.Pos)
			writeCaret(f.io.Err, opts.expr, se.Pos)
		}
		return &silentError{code: ExitError}
	}
	res.Valid = true
	res.Tags = expr.Tags()
	res.OnlyOr = expr.OnlyOr()
	res.Limit = tagexpr.MaxTagsMixed
	if res.OnlyOr {
		res.Limit = tagexpr.MaxTagsOrOnly
	}

	list := opts.devices == "always"
	if opts.devices == "auto" && f.endpointIsLocal() {
		_, err := f.hubName()
		list = err == nil
	}
	if list {
		devices, err := matchingDevices(ctx, f, expr)
		if err != nil {
			return err
		}
		res.Devices = devices
	}
	if f.output == outputJSON {
		return writeJSON(f.io.Out, res)
	}
	kind := "only ||"
	if !res.OnlyOr {
		kind = "&& or !"
	}
	fmt.Fprintf(f.io.Out, "valid: %d of at most %d tags (%s)\n", len(res.Tags), res.Limit, kind)
	if list {
		if len(res.Devices) == 0 {
			fmt.Fprintln(f.io.Out, "reaches no registration")
			return nil
		}
		fmt.Fprintf(f.io.Out, "reaches %d registration(s):\n", len(res.Devices))
		t := newTable("REGISTRATION", "PLATFORM", "HANDLE", "TAGS")
		for _, d := range res.Devices {
			p := d.Platform
			if d.Template {
				p += " (template)"
			}
			t.add(d.RegistrationID, p, shorten(d.Handle, 40), strings.Join(d.Tags, ","))
		}
		return t.write(f.io.Out, true)
	}
	return nil
}

// writeCaret prints expr and a caret under byte offset pos.
func writeCaret(w io.Writer, expr string, pos int) {
	if pos < 0 {
		pos = 0
	}
	if pos > len(expr) {
		pos = len(expr)
	}
	fmt.Fprintf(w, "  %s\n  %s^\n", expr, strings.Repeat(" ", utf8.RuneCountInString(expr[:pos])))
}

// shorten clips s to n runes with an ellipsis.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
