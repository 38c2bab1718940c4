package server

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
)

// EnvVar is one NAME=VALUE line of an env file.
type EnvVar struct {
	Name, Value string
	Line        int
}

var envNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ParseEnvFile reads the KEY=VALUE lines of a .env file, as `edgeauth
// keygen` writes them: blank lines and `#` comments are skipped, an
// `export ` prefix is allowed, values may be single-quoted (literal),
// double-quoted (backslash escapes \" \\ \$ \` and \n) or bare, and adjacent
// pieces join as in a shell (`'a'\”b'`). Nothing is expanded: `$HOME` stays
// `$HOME`. An error names the line, never its value, which may be a key.
func ParseEnvFile(r io.Reader) ([]EnvVar, error) {
	var vars []EnvVar
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20) // an RSA JWK Set is a long line
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			line = strings.TrimSpace(rest)
		}
		name, raw, ok := strings.Cut(line, "=")
		name = strings.TrimSpace(name)
		if !ok || !envNamePattern.MatchString(name) {
			return nil, fmt.Errorf("line %d: not NAME=VALUE", n)
		}
		value, err := envValue(strings.TrimSpace(raw))
		if err != nil {
			return nil, fmt.Errorf("line %d (%s): %w", n, name, err)
		}
		vars = append(vars, EnvVar{Name: name, Value: value, Line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return vars, nil
}

// envValue unquotes one value: pieces up to the first unquoted blank, after
// which only a comment may follow.
func envValue(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); {
		switch c := s[i]; c {
		case '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return "", fmt.Errorf("unterminated ' quote")
			}
			b.WriteString(s[i+1 : i+1+end])
			i += end + 2
		case '"':
			i++
			for {
				if i >= len(s) {
					return "", fmt.Errorf(`unterminated " quote`)
				}
				if s[i] == '"' {
					i++
					break
				}
				if s[i] == '\\' && i+1 < len(s) {
					switch s[i+1] {
					case '"', '\\', '$', '`':
						b.WriteByte(s[i+1])
						i += 2
						continue
					case 'n':
						b.WriteByte('\n')
						i += 2
						continue
					}
				}
				b.WriteByte(s[i])
				i++
			}
		case ' ', '\t':
			if rest := strings.TrimSpace(s[i:]); rest != "" && !strings.HasPrefix(rest, "#") {
				return "", fmt.Errorf("a blank in an unquoted value: quote the value")
			}
			return b.String(), nil
		case '\\':
			if i+1 < len(s) {
				b.WriteByte(s[i+1])
				i += 2
				continue
			}
			b.WriteByte(c)
			i++
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}

// LoadEnvFile sets, with os.Setenv, the EDGEAUTH_* and PORT variables of the
// env file at path, for LoadConfig (envconfig reads only the process
// environment). A variable already in the environment, even empty, is kept:
// the environment wins over the file, as with docker and dotenv. Other names
// are ignored. notes gets one line naming what was kept or ignored (names
// only). It returns PORT when the file set it.
func LoadEnvFile(path string, notes io.Writer) (port string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("--env-file: %w", err)
	}
	defer f.Close()
	vars, err := ParseEnvFile(f)
	if err != nil {
		return "", fmt.Errorf("--env-file %s: %w", path, err)
	}
	var kept, ignored []string
	fromFile := map[string]bool{} // a name repeated in the file: the last line wins, as in a shell
	for _, v := range vars {
		if v.Name != "PORT" && !strings.HasPrefix(v.Name, EnvPrefix+"_") {
			ignored = append(ignored, v.Name)
			continue
		}
		if _, set := os.LookupEnv(v.Name); set && !fromFile[v.Name] {
			kept = append(kept, v.Name)
			continue
		}
		if err := os.Setenv(v.Name, v.Value); err != nil {
			return "", fmt.Errorf("--env-file %s line %d: set %s: %w", path, v.Line, v.Name, err)
		}
		fromFile[v.Name] = true
		if v.Name == "PORT" {
			port = v.Value
		}
	}
	if len(kept) > 0 {
		fmt.Fprintf(notes, "edgeauth: --env-file %s: the environment already sets %s: kept\n", path, strings.Join(kept, ", "))
	}
	if len(ignored) > 0 {
		fmt.Fprintf(notes, "edgeauth: --env-file %s: ignored %s (only EDGEAUTH_* and PORT are read)\n", path, strings.Join(ignored, ", "))
	}
	return port, nil
}

// shellQuote single-quotes s for a POSIX shell: nothing inside is expanded,
// and a ' is written '\”.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
