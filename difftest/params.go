package difftest

import (
	"strconv"
	"strings"
)

// Parameterize turns a statement's literals into ? placeholders, the way
// an application written against a driver sends it: each integer literal
// becomes an int64 argument (with its sign, where the minus is not a
// subtraction) and each single-quoted string a string argument (its
// escapes undone as MariaDB reads them). Literals whose meaning would
// change as a parameter, or where the grammar wants a literal, stay in
// the text: decimals and exponents (DECIMAL, DOUBLE), hexadecimal and
// bit values (0x1f, x'41', b'101'), double-quoted strings (which name
// their column), a number after BY (a column position) and the string
// after SEPARATOR. Identifiers, back-quoted names and comments are copied
// as they are.
func Parameterize(sql string) (string, []any) {
	var (
		b    strings.Builder
		args []any
		prev string // the previous word, upper-cased ("" after anything else)
		// operand says the previous token ends an operand (a name, a
		// literal, a closing parenthesis), so that a minus after it
		// subtracts rather than negates.
		operand bool
	)
	keep := func(text string, isOperand bool) {
		b.WriteString(text)
		prev, operand = "", isOperand
	}
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case isIdentStart(c):
			j := i
			for j < len(sql) && isIdentChar(sql[j]) {
				j++
			}
			word := sql[i:j]
			if j < len(sql) && sql[j] == '\'' && (strings.EqualFold(word, "x") || strings.EqualFold(word, "b")) {
				end := skipQuoted(sql, j, '\'')
				keep(sql[i:end], true)
				i = end
				continue
			}
			b.WriteString(word)
			prev, operand = strings.ToUpper(word), !keywords[strings.ToUpper(word)]
			i = j
			continue
		case c == '`' || c == '"':
			end := skipQuoted(sql, i, c)
			keep(sql[i:end], true)
			i = end
			continue
		case c == '\'' && prev == "SEPARATOR":
			end := skipQuoted(sql, i, c)
			keep(sql[i:end], true)
			i = end
			continue
		case c == '\'':
			s, end := unquote(sql, i)
			keep("?", true)
			args = append(args, s)
			i = end
			continue
		case c == '/' && strings.HasPrefix(sql[i:], "/*"):
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				end = len(sql) - i - 4
			}
			b.WriteString(sql[i : i+end+4])
			i += end + 4
			continue
		case isDigit(c) || c == '-' && !operand && i+1 < len(sql) && isDigit(sql[i+1]):
			j := i + 1
			for j < len(sql) && isDigit(sql[j]) {
				j++
			}
			literal := j < len(sql) && (sql[j] == '.' || isIdentChar(sql[j]))
			if !literal && prev != "BY" {
				if n, err := strconv.ParseInt(sql[i:j], 10, 64); err == nil {
					keep("?", true)
					args = append(args, n)
					i = j
					continue
				}
			}
			for j < len(sql) && (isIdentChar(sql[j]) || sql[j] == '.') {
				j++
			}
			keep(sql[i:j], true)
			i = j
			continue
		case c == '.' && i+1 < len(sql) && isDigit(sql[i+1]):
			j := i + 1
			for j < len(sql) && (isIdentChar(sql[j]) || sql[j] == '.') {
				j++
			}
			keep(sql[i:j], true)
			i = j
			continue
		case c == ' ' || c == '\t' || c == '\n':
			b.WriteByte(c)
		default:
			keep(string(c), c == ')')
		}
		i++
	}
	return b.String(), args
}

// keywords are the words after which a minus sign negates: the ones
// that can stand right before an operand.
var keywords = map[string]bool{
	"SELECT": true, "WHERE": true, "AND": true, "OR": true, "NOT": true, "IN": true, "BETWEEN": true,
	"IS": true, "LIKE": true, "WHEN": true, "THEN": true, "ELSE": true, "ON": true, "HAVING": true,
	"LIMIT": true, "OFFSET": true, "VALUES": true, "SET": true, "DO": true, "BY": true, "INTERVAL": true,
	"DIV": true, "MOD": true, "XOR": true, "ALL": true, "ANY": true, "DISTINCT": true, "RETURN": true,
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool {
	return c == '_' || c == '$' || c >= 0x80 || (c|0x20 >= 'a' && c|0x20 <= 'z')
}
func isIdentChar(c byte) bool { return isIdentStart(c) || isDigit(c) }

// skipQuoted returns the index just past the quoted text that starts at
// sql[i] (a doubled quote stands for itself; in strings a backslash
// escapes the next byte).
func skipQuoted(sql string, i int, q byte) int {
	for j := i + 1; j < len(sql); j++ {
		switch {
		case sql[j] == '\\' && q != '`':
			j++
		case sql[j] == q && j+1 < len(sql) && sql[j+1] == q:
			j++
		case sql[j] == q:
			return j + 1
		}
	}
	return len(sql)
}

// unquote reads the single-quoted string at sql[i] with MariaDB's escapes
// (default sql_mode) and returns its value and the index past it. \% and
// \_ keep their backslash, as MariaDB keeps it for LIKE.
func unquote(sql string, i int) (string, int) {
	var b strings.Builder
	for j := i + 1; j < len(sql); j++ {
		c := sql[j]
		switch {
		case c == '\\' && j+1 < len(sql):
			j++
			switch e := sql[j]; e {
			case '0':
				b.WriteByte(0)
			case 'b':
				b.WriteByte('\b')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'Z':
				b.WriteByte(26)
			case '%', '_':
				b.WriteByte('\\')
				b.WriteByte(e)
			default:
				b.WriteByte(e)
			}
		case c == '\'' && j+1 < len(sql) && sql[j+1] == '\'':
			b.WriteByte('\'')
			j++
		case c == '\'':
			return b.String(), j + 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), len(sql)
}
