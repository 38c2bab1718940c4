package server

import (
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/kelseyhightower/envconfig"
)

// globalEnv is the envconfig spec of the global settings, as read: no
// parsing beyond envconfig's own, no defaults that another package owns.
// Field names are spelled so that envconfig's split_words gives the
// documented names (PublicUrl → PUBLIC_URL); an explicit `envconfig` tag is
// avoided on purpose, because envconfig then also falls back to the bare
// name (ADDR, ENV, …) when the prefixed variable is missing.
type globalEnv struct {
	Addr                  string        `split_words:"true"`
	PublicUrl             string        `split_words:"true"`
	Providers             []string      `split_words:"true"`
	StateKeys             string        `split_words:"true"`
	StateTtl              time.Duration `split_words:"true" default:"10m"`
	SigningKeys           string        `split_words:"true"`
	TokenIssuer           string        `split_words:"true"`
	TokenAudience         string        `split_words:"true"`
	AccessTtl             time.Duration `split_words:"true" default:"15m"`
	RefreshTtl            time.Duration `split_words:"true" default:"336h"`
	SessionMaxAge         time.Duration `split_words:"true" default:"720h"`
	UserhookUrl           string        `split_words:"true"`
	UserhookSecret        string        `split_words:"true"`
	UserhookTimeout       time.Duration `split_words:"true"` // default: userhook's
	UserhookRetries       *int          `split_words:"true"` // nil: userhook's default
	UserhookClaimsAllowed []string      `split_words:"true"`
	Binding               string        `split_words:"true" default:"auto"`
	BindingCookieSameSite string        `split_words:"true" default:"lax"`
	CorsOrigins           []string      `split_words:"true"`
	AppStateMax           int           `split_words:"true" default:"128"`
	RateLimit             string        `split_words:"true" default:"120/m"`
	TrustedProxies        []string      `split_words:"true"`
	LogLevel              string        `split_words:"true" default:"info"`
	LogFormat             string        `split_words:"true"` // default: json, text in dev
	Env                   string        `split_words:"true"` // default: production
}

// providerEnv is the envconfig spec of one provider, read with the prefix
// EDGEAUTH_<NAME>. Defaults of the relying party (client auth, userinfo,
// timeout, …) belong to the oidc package and its presets: a zero value
// here means "not set".
type providerEnv struct {
	Type                   string            `split_words:"true"`
	Issuer                 string            `split_words:"true"`
	BaseUrl                string            `split_words:"true"`
	Tenant                 string            `split_words:"true"`
	Offline                bool              `split_words:"true"`
	TeamId                 string            `split_words:"true"`
	KeyId                  string            `split_words:"true"`
	PrivateKey             string            `split_words:"true"`
	ClientId               string            `split_words:"true"`
	ClientSecret           string            `split_words:"true"`
	RedirectUri            string            `split_words:"true"`
	RedirectUris           []string          `split_words:"true"`
	PostLogoutRedirectUri  string            `split_words:"true"`
	PostLogoutRedirectUris []string          `split_words:"true"`
	Scopes                 string            `split_words:"true"`
	AuthParams             map[string]string `split_words:"true"`
	Userinfo               string            `split_words:"true"`
	DisplayName            string            `split_words:"true"`
	AuthUrl                string            `split_words:"true"`
	TokenUrl               string            `split_words:"true"`
	UserinfoUrl            string            `split_words:"true"`
	JwksUrl                string            `split_words:"true"`
	RevocationUrl          string            `split_words:"true"`
	EndSessionUrl          string            `split_words:"true"`
	IntrospectionUrl       string            `split_words:"true"`
	SubjectClaim           string            `split_words:"true"`
	ClientAuth             string            `split_words:"true"`
	SigningAlgs            []string          `split_words:"true"`
	TrustedAudiences       []string          `split_words:"true"`
	AllowedEmailDomains    []string          `split_words:"true"`
	HostedDomains          []string          `split_words:"true"`
	UserhookUrl            string            `split_words:"true"`
	ConvertAudiences       []string          `split_words:"true"`
	ConvertMaxAge          time.Duration     `split_words:"true"`
	ConvertAccessToken     string            `split_words:"true"`
	Timeout                time.Duration     `split_words:"true"`
}

// readEnv fills spec from the environment under prefix, running envconfig
// once per field so that one bad value does not hide the others
// (envconfig.Process stops at the first error). A field that fails keeps
// its zero value and is reported once.
func readEnv(prefix string, spec any, ps *problems) {
	v := reflect.ValueOf(spec).Elem()
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		one := reflect.New(reflect.StructOf([]reflect.StructField{{Name: f.Name, Type: f.Type, Tag: f.Tag}}))
		if err := envconfig.Process(prefix, one.Interface()); err != nil {
			ps.envError(err)
			continue
		}
		v.Field(i).Set(one.Elem().Field(0))
	}
}

// envError names the variable and the expected form without the value,
// which could be a secret pasted into the wrong variable.
func (ps *problems) envError(err error) {
	var pe *envconfig.ParseError
	if !errors.As(err, &pe) {
		ps.add("EDGEAUTH", "%v", err)
		return
	}
	want := pe.TypeName
	switch pe.TypeName {
	case "time.Duration":
		want = "a Go duration such as 10m or 1h30m"
	case "int", "*int":
		want = "a whole number"
	case "map[string]string":
		want = "key:value pairs separated by commas"
	}
	ps.add(pe.KeyName, "not %s", want)
}

// ConfigProblem is one configuration problem: the variable and what is wrong with
// it. Msg never contains the value of a secret.
type ConfigProblem struct{ Var, Msg string }

func (p ConfigProblem) String() string { return p.Var + ": " + p.Msg }

// ConfigError lists every configuration problem found at start.
type ConfigError struct{ Problems []ConfigProblem }

func (e *ConfigError) Error() string {
	n := len(e.Problems)
	s := fmt.Sprintf("configuration has %d problems:", n)
	if n == 1 {
		s = "configuration has 1 problem:"
	}
	for _, p := range e.Problems {
		s += "\n  - " + p.String()
	}
	return s
}

// problems collects ConfigProblems; a variable reported once is not checked again
// (a value that did not parse is not also "out of range").
type problems struct {
	list []ConfigProblem
	bad  map[string]bool
}

func (ps *problems) add(variable, format string, args ...any) {
	if ps.bad == nil {
		ps.bad = map[string]bool{}
	}
	ps.bad[variable] = true
	ps.list = append(ps.list, ConfigProblem{Var: variable, Msg: fmt.Sprintf(format, args...)})
}

func (ps *problems) failed(variable string) bool { return ps.bad[variable] }

func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	return &ConfigError{Problems: ps.list}
}
