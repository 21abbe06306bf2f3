package parser

import "bytes"

// FirstWords returns up to n leading words of a statement, lower case,
// skipping white space and comments (the content of executable comments
// /*! ... */ counts as code, as the server runs it).
func FirstWords(sql []byte, n int) []string {
	var out []string
	for i := 0; i < len(sql) && len(out) < n; {
		c := sql[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '#' || (c == '-' && i+2 <= len(sql) && bytes.HasPrefix(sql[i:], []byte("--")) && (i+2 == len(sql) || sql[i+2] <= ' ')):
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			if i+2 < len(sql) && (sql[i+2] == '!' || (sql[i+2] == 'M' && i+3 < len(sql) && sql[i+3] == '!')) {
				i += 3
				if sql[i-1] == 'M' {
					i++
				}
				for i < len(sql) && sql[i] >= '0' && sql[i] <= '9' {
					i++
				}
				continue
			}
			end := bytes.Index(sql[i+2:], []byte("*/"))
			if end < 0 {
				return out
			}
			i += end + 4
		case c == '*' && i+1 < len(sql) && sql[i+1] == '/':
			i += 2 // the end of an executable comment
		case isWordStart(c):
			j := i
			for j < len(sql) && (isWordStart(sql[j]) || sql[j] >= '0' && sql[j] <= '9') {
				j++
			}
			out = append(out, string(bytes.ToLower(sql[i:j])))
			i = j
		default:
			return out
		}
	}
	return out
}

func isWordStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}
