package config

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
)

var durationType = reflect.TypeFor[time.Duration]()

// unknownKeys reports every key in raw (viper's settings: nested
// map[string]any and []any) that no mapstructure tag of Config matches, with
// its full path, e.g. `unknown key "clusters[0].primry"; did you mean "primary"?`.
func unknownKeys(raw map[string]any) []error {
	var errs []error
	walkKeys(raw, reflect.TypeFor[Config](), "", &errs)
	return errs
}

func walkKeys(m map[string]any, t reflect.Type, path string, errs *[]error) {
	fields := make(map[string]reflect.Type, t.NumField())
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		if tag := f.Tag.Get("mapstructure"); tag != "" {
			fields[tag] = f.Type
			names = append(names, tag)
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)

	for _, k := range keys {
		p := k
		if path != "" {
			p = path + "." + k
		}
		ft, ok := fields[strings.ToLower(k)] // viper lower-cases keys; be sure
		if !ok {
			*errs = append(*errs, unknownKeyError(p, k, names))
			continue
		}
		if ft.Kind() == reflect.Pointer { // optional sections: *Sharding
			ft = ft.Elem()
		}
		// Descend only where the shape fits; the decoder reports misfits.
		switch {
		case ft.Kind() == reflect.Struct:
			if sub, ok := m[k].(map[string]any); ok {
				walkKeys(sub, ft, p, errs)
			}
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			list, _ := m[k].([]any)
			for i, e := range list {
				if sub, ok := e.(map[string]any); ok {
					walkKeys(sub, ft.Elem(), fmt.Sprintf("%s[%d]", p, i), errs)
				}
			}
		}
	}
}

func unknownKeyError(path, key string, valid []string) error {
	best, bestDist := "", 3 // suggest only close misspellings
	for _, n := range valid {
		if d := editDistance(strings.ToLower(key), n); d < bestDist {
			best, bestDist = n, d
		}
	}
	if best != "" {
		return fmt.Errorf("unknown key %q; did you mean %q?", path, best)
	}
	return fmt.Errorf("unknown key %q; keys allowed here: %s", path, strings.Join(valid, ", "))
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// checkDurationHook runs before mapstructure.StringToTimeDurationHookFunc.
// It rejects bare numbers, which would otherwise decode as nanoseconds
// (0 is fine), and replaces "time: invalid duration" with a message that
// shows the value and the expected form.
func checkDurationHook(from, to reflect.Type, data any) (any, error) {
	if to != durationType {
		return data, nil
	}
	switch from.Kind() {
	case reflect.String:
		if _, err := time.ParseDuration(data.(string)); err != nil {
			return nil, fmt.Errorf("%q is not a duration; write it like \"10s\", \"500ms\" or \"1h30m\"", data)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		if !reflect.ValueOf(data).IsZero() {
			return nil, fmt.Errorf("%v has no unit; write a duration like \"%vs\" or \"%vms\"", data, data, data)
		}
		return time.Duration(0), nil
	}
	return data, nil
}

// checkListHook explains a scalar or mapping where a list belongs, which
// the decoder would report as "source data must be an array or slice".
func checkListHook(from, to reflect.Type, data any) (any, error) {
	if to.Kind() != reflect.Slice || from.Kind() == reflect.Slice {
		return data, nil
	}
	if s, ok := data.(string); ok {
		return nil, fmt.Errorf("expected a list, got text; write it as [%s]", s)
	}
	return nil, fmt.Errorf("expected a list, got %s; start each item with \"- \"", kindOf(data))
}

// checkIntHook rejects fractional numbers for int keys, which the decoder
// would otherwise truncate.
func checkIntHook(from, to reflect.Type, data any) (any, error) {
	if to.Kind() != reflect.Int || (from.Kind() != reflect.Float64 && from.Kind() != reflect.Float32) {
		return data, nil
	}
	f := reflect.ValueOf(data).Float()
	if f != math.Trunc(f) {
		return nil, fmt.Errorf("%v is not a whole number", data)
	}
	if math.Abs(f) > 1<<53 {
		return nil, fmt.Errorf("%v is too large", data)
	}
	return int(f), nil
}

// decodeProblems turns the decoder's error tree into one error per key,
// each starting with the key's path.
func decodeProblems(err error) []error {
	var out []error
	var walk func(error)
	walk = func(e error) {
		var de *mapstructure.DecodeError
		switch x := e.(type) {
		case interface{ Unwrap() []error }:
			for _, c := range x.Unwrap() {
				walk(c)
			}
			return
		case *mapstructure.DecodeError:
			de = x
		case interface{ Unwrap() error }:
			if c := x.Unwrap(); c != nil {
				walk(c)
				return
			}
		}
		if de == nil {
			out = append(out, e)
			return
		}
		name := de.Name()
		if name == "" {
			name = "(top level)"
		}
		out = append(out, fmt.Errorf("%s: %s", name, describe(de.Unwrap())))
	}
	walk(err)
	return out
}

// describe rewords the decoder's type errors without echoing the value,
// which could be a password.
func describe(err error) string {
	var ute *mapstructure.UnconvertibleTypeError
	if errors.As(err, &ute) {
		return typeMismatch(ute.Expected.Type(), ute.Value)
	}
	var pe *mapstructure.ParseError
	if errors.As(err, &pe) {
		return typeMismatch(pe.Expected.Type(), pe.Value)
	}
	return err.Error()
}

func typeMismatch(want reflect.Type, got any) string {
	var w string
	if want == durationType {
		return fmt.Sprintf("expected a duration like \"10s\", got %s", kindOf(got))
	}
	switch want.Kind() {
	case reflect.String:
		switch got.(type) {
		case bool, int, int64, uint64, float64:
			return fmt.Sprintf("expected text, got %s; put the value in quotes", kindOf(got))
		}
		w = "text"
	case reflect.Bool:
		w = "true or false"
	case reflect.Int:
		w = "a whole number"
	case reflect.Slice:
		w = "a list"
	case reflect.Struct:
		w = "a mapping of keys to values"
	default:
		w = want.String()
	}
	return fmt.Sprintf("expected %s, got %s", w, kindOf(got))
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "nothing"
	case string:
		return "text"
	case bool:
		return "true/false"
	case int, int64, uint64, float64:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}

// sizeUnits are powers of 1024, as in my.cnf ("64M" = 64 MiB).
var sizeUnits = map[string]int{
	"": 1, "b": 1,
	"k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
	"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
	"g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
}

// parseSize reads a byte count such as "1048576", "64MiB", "512K" or "1G".
func parseSize(s string) (int, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	n, err := strconv.Atoi(t[:i])
	unit, ok := sizeUnits[strings.ToLower(strings.TrimSpace(t[i:]))]
	if err != nil || !ok {
		return 0, fmt.Errorf("%q is not a size; write bytes (1048576) or use a unit (\"64MiB\", \"512KiB\", \"1GiB\")", s)
	}
	if n > math.MaxInt/unit {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n * unit, nil
}
