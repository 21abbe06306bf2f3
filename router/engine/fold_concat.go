package engine

import (
	"fmt"
	"slices"

	"github.com/courier-proxy/courier/sqlerr"
)

// defaultGroupConcatMaxLen is MariaDB's group_concat_max_len default,
// for sessions that did not say.
const defaultGroupConcatMaxLen = 1 << 20

// resolveConcat prepares a GROUP_CONCAT's fold: its ORDER BY over the
// parts' own copies of the order values, and for DISTINCT its arguments.
func (aw *aggWriter) resolveConcat(s *columns, fd *folder) error {
	keys, err := s.sortKeys(aw.ctx, aw.cur, fd.Order)
	if err != nil {
		return err
	}
	fd.orderAt = make([]int, len(keys))
	for j := range keys {
		fd.orderAt[j], keys[j].i = keys[j].i, j
	}
	fd.order = keys
	if fd.Distinct {
		if len(fd.Args) == 0 {
			return sqlerr.New(sqlerr.ErrUnknown, "engine: group_concat(distinct) of no arguments")
		}
		fd.args, err = s.keyCols(aw.ctx, aw.cur, fd.Args)
	}
	return err
}

// part is one shard row's partial concatenation.
type part struct {
	val  []byte
	keys Row    // the ORDER BY values
	arg  string // DISTINCT: the arguments' equality class
}

// partList is a group's partial concatenations, for one GROUP_CONCAT.
type partList struct {
	parts []part
}

// add keeps the row's partial concatenation v (NULL ones are skipped, as
// GROUP_CONCAT skips NULL arguments); scratch holds the DISTINCT key.
func (l *partList) add(r Row, v []byte, f *folder, h *holding, scratch *[]byte) error {
	if v == nil {
		return nil
	}
	p := part{val: append([]byte{}, v...)}
	cost := int64(len(v)) + rowOverhead
	if len(f.orderAt) > 0 {
		p.keys = make(Row, len(f.orderAt))
		for j, i := range f.orderAt {
			if r[i] != nil {
				p.keys[j] = append([]byte{}, r[i]...)
			}
			cost += int64(len(r[i])) + valueOverhead
		}
	}
	if f.Distinct {
		*scratch, _ = appendKey((*scratch)[:0], r, f.args)
		p.arg = string(*scratch)
		cost += int64(len(p.arg))
	}
	if err := h.take(1, cost); err != nil {
		return err
	}
	l.parts = append(l.parts, p)
	return nil
}

// result joins the parts in ORDER BY order (the shards' order where it
// ties), each DISTINCT value once, and cuts the result at maxLen bytes
// as MariaDB does (at a character boundary); cut reports a cut, for
// which MariaDB gives warning 1260. No parts give NULL.
func (l *partList) result(f *folder, maxLen int) (v []byte, cut bool, err error) {
	if len(l.parts) == 0 {
		return nil, false, nil
	}
	if maxLen <= 0 {
		maxLen = defaultGroupConcatMaxLen
	}
	if len(f.order) > 0 {
		slices.SortStableFunc(l.parts, func(a, b part) int { return compareRows(f.order, a.keys, b.keys) })
	}
	var seen map[string]bool
	if f.Distinct {
		seen = map[string]bool{}
	}
	out := []byte{}
	for i, p := range l.parts {
		if seen != nil {
			if seen[p.arg] {
				continue
			}
			seen[p.arg] = true
		}
		if i > 0 && (seen == nil || len(seen) > 1) { // not the first written
			out = append(out, f.Separator...)
		}
		out = append(out, p.val...)
		if len(out) > maxLen {
			break
		}
	}
	if len(out) <= maxLen {
		return out, false, nil
	}
	n, err := cutAt(out, maxLen, f.col)
	return out[:n], true, err
}

// cutAt is where MariaDB cuts a value of column c at maxLen bytes: there,
// or before the character that would not fit whole.
func cutAt(v []byte, maxLen int, c *Column) (int, error) {
	switch {
	case singleByteCharset(c.Charset):
		return maxLen, nil
	case utf8Charset(c.Charset):
		n := maxLen
		for n > 0 && v[n]&0xC0 == 0x80 { // a continuation byte: inside a character
			n--
		}
		return n, nil
	}
	return 0, sqlerr.NotSupported(fmt.Sprintf("cutting GROUP_CONCAT %s (character set id %d) at group_concat_max_len across shards", c.Name, c.Charset),
		"raise group_concat_max_len")
}

// utf8Charset reports whether a collation id is of utf8mb3 or utf8mb4.
func utf8Charset(id uint16) bool {
	if id >= 2048 && id < 2560 { // MariaDB's uca1400 collations of utf8mb3, utf8mb4
		return true
	}
	if id < 2048 {
		id &^= 1024 // MariaDB's NO PAD variants
	}
	return id == 33 || id == 45 || id == 46 || id == 83 || id >= 192 && id <= 215 || id >= 223 && id <= 247 ||
		id >= 255 && id <= 323
}

// singleByteCharset reports whether a collation id is of binary, latin1
// or ascii.
func singleByteCharset(id uint16) bool {
	if id < 2048 {
		id &^= 1024
	}
	switch id {
	case 63, 5, 8, 15, 31, 47, 48, 49, 94, 11, 65:
		return true
	}
	return false
}
