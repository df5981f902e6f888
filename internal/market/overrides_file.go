package market

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// OverridesFile is a parsed calendars.overrides file: per market, an
// optional covered_through and lists of entries. Its format:
//
//	XNYS:
//	  holidays:       [{date: 2027-01-08, name: "National Day of Mourning"}]
//	  early_closes:   [{date: 2027-07-02, close: "13:00"}]
//	  late_opens:     [{date: 2027-03-10, open: "10:30"}]
//	  halts:          [{date: 2027-03-11, from: "10:00", to: "11:30", name: "technical halt"}]
//	  extra_sessions: [{date: 2027-03-13, open: "09:30", close: "16:00"}]
//	XSHG:
//	  covered_through: 2027-12-31
//	  holidays:       [{date: 2027-02-08, name: "Spring Festival"}]
//
// Times are the market's local wall clock on the session's date. An extra
// session may add break_start and break_end.
type OverridesFile struct {
	Path           string
	CoveredThrough map[Code]Date
	Entries        []Override
}

// fileLists maps each list of the file to its kind and the fields its
// entries take (date is always required; name is always allowed).
var fileLists = []struct {
	list   string
	kind   OverrideKind
	fields []string // required first, then optional after "|"
}{
	{"holidays", KindHoliday, []string{"|"}},
	{"extra_sessions", KindExtraSession, []string{"open", "close", "|", "break_start", "break_end"}},
	{"late_opens", KindLateOpen, []string{"open", "|"}},
	{"early_closes", KindEarlyClose, []string{"close", "|"}},
	{"halts", KindHalt, []string{"from", "to", "|"}},
}

// LoadOverridesFile reads and parses an overrides file. Errors name the
// market, the entry, the field and the line.
func LoadOverridesFile(path string) (*OverridesFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("calendars.overrides: %w", err)
	}
	return ParseOverrides(path, data)
}

// ParseOverrides parses the overrides file format; path is only used to
// name places in errors and sources.
func ParseOverrides(path string, data []byte) (*OverridesFile, error) {
	f := &OverridesFile{Path: path, CoveredThrough: map[Code]Date{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return f, nil // an empty file
	}
	top := doc.Content[0]
	at := func(n *yaml.Node) string { return fmt.Sprintf("%s:%d", path, n.Line) }
	if top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: the file must map market codes to their overrides", at(top))
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		key, body := top.Content[i], top.Content[i+1]
		code := Code(key.Value)
		if err := CheckCodeSyntax(key.Value); err != nil {
			return nil, fmt.Errorf("%s: %w", at(key), err)
		}
		if body.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("%s: %s: must be a mapping of covered_through and lists of entries", at(body), code)
		}
		for j := 0; j+1 < len(body.Content); j += 2 {
			lk, lv := body.Content[j], body.Content[j+1]
			if lk.Value == "covered_through" {
				d, err := ParseDate(lv.Value)
				if err != nil {
					return nil, &OverrideError{Market: code, Ref: at(lv), Field: "covered_through", Reason: err.Error()}
				}
				f.CoveredThrough[code] = d
				continue
			}
			entries, err := parseList(path, code, lk, lv)
			if err != nil {
				return nil, err
			}
			f.Entries = append(f.Entries, entries...)
		}
	}
	for i, a := range f.Entries {
		for _, b := range f.Entries[i+1:] {
			if err := Contradiction(a, b); err != nil {
				return nil, err
			}
		}
	}
	return f, nil
}

func parseList(path string, code Code, key, list *yaml.Node) ([]Override, error) {
	at := func(n *yaml.Node) string { return fmt.Sprintf("%s:%d", path, n.Line) }
	var names []string
	for _, l := range fileLists {
		names = append(names, l.list)
		if l.list != key.Value {
			continue
		}
		if list.Kind != yaml.SequenceNode {
			return nil, &OverrideError{Market: code, Entry: l.list, Ref: at(list), Reason: "must be a list of entries"}
		}
		var out []Override
		for idx, item := range list.Content {
			entry := fmt.Sprintf("%s[%d]", l.list, idx)
			o := Override{Market: code, Kind: l.kind, Source: Source{Origin: OriginFile, Ref: at(item) + "#" + entry}}
			fail := func(n *yaml.Node, field, format string, args ...any) error {
				return &OverrideError{Market: code, Entry: entry, Ref: at(n), Field: field, Reason: fmt.Sprintf(format, args...)}
			}
			if item.Kind != yaml.MappingNode {
				return nil, fail(item, "", "must be a mapping such as {date: 2027-01-08, name: ...}")
			}
			required, optional, _ := strings.Cut(strings.Join(l.fields, " "), "|")
			allowed := map[string]bool{"date": true, "name": true}
			seen := map[string]bool{}
			for _, fld := range append(strings.Fields(required), strings.Fields(optional)...) {
				allowed[fld] = true
			}
			for k := 0; k+1 < len(item.Content); k += 2 {
				fk, fv := item.Content[k], item.Content[k+1]
				if !allowed[fk.Value] {
					return nil, fail(fk, fk.Value, "unknown field (%s take date, %s name)", l.list, strings.Join(append(strings.Fields(required), strings.Fields(optional)...), ", "))
				}
				seen[fk.Value] = true
				var err error
				switch fk.Value {
				case "date":
					o.Date, err = ParseDate(fv.Value)
				case "name":
					o.Name = fv.Value
				case "open":
					o.Open, err = ParseTimeOfDay(fv.Value)
				case "close":
					o.Close, err = ParseTimeOfDay(fv.Value)
				case "from":
					o.From, err = ParseTimeOfDay(fv.Value)
				case "to":
					o.To, err = ParseTimeOfDay(fv.Value)
				case "break_start":
					o.BreakStart, err = ParseTimeOfDay(fv.Value)
				case "break_end":
					o.BreakEnd, err = ParseTimeOfDay(fv.Value)
				}
				if err != nil {
					return nil, fail(fv, fk.Value, "%v", err)
				}
			}
			for _, fld := range append([]string{"date"}, strings.Fields(required)...) {
				if !seen[fld] {
					return nil, fail(item, fld, "is required")
				}
			}
			if err := o.Check(); err != nil {
				return nil, err
			}
			out = append(out, o)
		}
		return out, nil
	}
	return nil, &OverrideError{Market: code, Ref: at(key), Field: key.Value, Reason: fmt.Sprintf("unknown list (known: covered_through, %s)", strings.Join(names, ", "))}
}

// Marshal writes the file in the overrides format, markets and entries in
// a stable order, so an export can be loaded back or diffed.
func (f *OverridesFile) Marshal() []byte {
	var b bytes.Buffer
	byMarket := map[Code][]Override{}
	var codes []Code
	seen := map[Code]bool{}
	add := func(c Code) {
		if !seen[c] {
			seen[c] = true
			codes = append(codes, c)
		}
	}
	for c := range f.CoveredThrough {
		add(c)
	}
	for _, o := range f.Entries {
		add(o.Market)
		byMarket[o.Market] = append(byMarket[o.Market], o)
	}
	sort.Slice(codes, func(i, j int) bool { return codes[i] < codes[j] })
	for _, c := range codes {
		fmt.Fprintf(&b, "%s:\n", c)
		if d, ok := f.CoveredThrough[c]; ok {
			fmt.Fprintf(&b, "  covered_through: %s\n", d)
		}
		for _, l := range fileLists {
			var items []Override
			for _, o := range byMarket[c] {
				if o.Kind == l.kind {
					items = append(items, o)
				}
			}
			if len(items) == 0 {
				continue
			}
			sort.SliceStable(items, func(i, j int) bool { return items[i].Date.Before(items[j].Date) })
			fmt.Fprintf(&b, "  %s:\n", l.list)
			for _, o := range items {
				fmt.Fprintf(&b, "    - {date: %s", o.Date)
				switch o.Kind {
				case KindExtraSession:
					fmt.Fprintf(&b, ", open: %q, close: %q", o.Open, o.Close)
					if o.BreakStart != 0 || o.BreakEnd != 0 {
						fmt.Fprintf(&b, ", break_start: %q, break_end: %q", o.BreakStart, o.BreakEnd)
					}
				case KindLateOpen:
					fmt.Fprintf(&b, ", open: %q", o.Open)
				case KindEarlyClose:
					fmt.Fprintf(&b, ", close: %q", o.Close)
				case KindHalt:
					fmt.Fprintf(&b, ", from: %q, to: %q", o.From, o.To)
				}
				if o.Name != "" {
					fmt.Fprintf(&b, ", name: %q", o.Name)
				}
				b.WriteString("}\n")
			}
		}
	}
	return b.Bytes()
}
