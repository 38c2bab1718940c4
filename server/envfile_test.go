package server

import (
	"os/exec"
	"strings"
	"testing"
)

func TestParseEnvFile(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     map[string]string
		err      string // in the error; the value never is
	}{
		{name: "keygen output", in: "EDGEAUTH_STATE_KEYS=abc\nEDGEAUTH_SIGNING_KEYS='{\"keys\":[]}'\n",
			want: map[string]string{"EDGEAUTH_STATE_KEYS": "abc", "EDGEAUTH_SIGNING_KEYS": `{"keys":[]}`}},
		{name: "keygen --export output", in: "export EDGEAUTH_STATE_KEYS='abc'\nexport\tPORT='9090'\n",
			want: map[string]string{"EDGEAUTH_STATE_KEYS": "abc", "PORT": "9090"}},
		{name: "comments and blanks", in: "\n# a comment\n  EDGEAUTH_A = x  # trailing\n\n",
			want: map[string]string{"EDGEAUTH_A": "x"}},
		{name: "double quotes", in: `EDGEAUTH_A="a \"b\" \$HOME \\ c#d"`,
			want: map[string]string{"EDGEAUTH_A": `a "b" $HOME \ c#d`}},
		{name: "no expansion", in: "EDGEAUTH_A=$HOME", want: map[string]string{"EDGEAUTH_A": "$HOME"}},
		{name: "joined pieces", in: `EDGEAUTH_A='it'\''s'`, want: map[string]string{"EDGEAUTH_A": "it's"}},
		{name: "empty", in: "EDGEAUTH_A=\nEDGEAUTH_B=''", want: map[string]string{"EDGEAUTH_A": "", "EDGEAUTH_B": ""}},
		{name: "a name called export", in: "export=1", want: map[string]string{"export": "1"}},
		{name: "no equals", in: "\nEDGEAUTH_A s3cret", err: "line 2: not NAME=VALUE"},
		{name: "bad name", in: "1A=s3cret", err: "line 1: not NAME=VALUE"},
		{name: "unterminated", in: "EDGEAUTH_A='s3cret", err: "line 1 (EDGEAUTH_A): unterminated ' quote"},
		{name: "unterminated double", in: `EDGEAUTH_A="s3cret\"`, err: `line 1 (EDGEAUTH_A): unterminated " quote`},
		{name: "blank in bare value", in: "EDGEAUTH_A=s3cret value", err: "line 1 (EDGEAUTH_A): a blank"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars, err := ParseEnvFile(strings.NewReader(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("error %v, want %q without the value", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, v := range vars {
				got[v.Name] = v.Value
			}
			if len(got) != len(tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

// TestShellQuote: what keygen --export prints is what bash reads, and what
// ParseEnvFile reads.
func TestShellQuote(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("bash not installed")
	}
	for _, s := range []string{"", "plain", `{"keys":[{"d":"x"}]}`, "it's", `a'b"c$HOME\n` + "`x`", "whsec_a+b/c="} {
		out, err := exec.Command(bash, "-c", "printf %s "+shellQuote(s)).Output()
		if err != nil || string(out) != s {
			t.Errorf("bash reads %s as %q (%v), want %q", shellQuote(s), out, err, s)
		}
		vars, err := ParseEnvFile(strings.NewReader("export EDGEAUTH_A=" + shellQuote(s)))
		if err != nil || len(vars) != 1 || vars[0].Value != s {
			t.Errorf("ParseEnvFile reads %s as %v (%v), want %q", shellQuote(s), vars, err, s)
		}
	}
}

func FuzzParseEnvFile(f *testing.F) {
	f.Add("export EDGEAUTH_A='x'\\''y' # c\nB=\"q\\\"\"\n")
	f.Fuzz(func(t *testing.T, in string) {
		_, _ = ParseEnvFile(strings.NewReader(in)) // must not panic
	})
}
