package oidc

import (
	"context"
	"encoding/json"
	"strings"
	"time"
)

// userinfo calls the userinfo endpoint (OpenID Connect Core §5.3, or an
// OAuth 2.0 API such as GitHub's /user) with the access token as a Bearer
// token (RFC 6750 §2.1). The answer must be a JSON object; signed or
// encrypted answers (application/jwt, Core §5.3.2) are not supported. It
// returns the claims and Config.SubjectClaim rendered as a string ("" when
// absent or unusable), read from the raw JSON so that a large numeric id
// is not rounded through float64.
func (p *Provider) userinfo(ctx context.Context, endpoint, accessToken string) (map[string]any, string, error) {
	if accessToken == "" {
		return nil, "", newError(CodeUserinfoFailed, "userinfo", nil, "userinfo: no access token to call it with")
	}
	var body json.RawMessage
	start := time.Now()
	status, err := p.getJSON(ctx, endpoint, maxUserinfoBytes, accessToken, true, &body)
	p.observe(CallUserinfo, start, status, err)
	if err != nil {
		return nil, "", newError(CodeUserinfoFailed, "userinfo", err, "userinfo: %s", safeCause(err))
	}
	var info map[string]any
	var raw map[string]json.RawMessage
	if json.Unmarshal(body, &info) != nil || info == nil || json.Unmarshal(body, &raw) != nil {
		return nil, "", newError(CodeUserinfoFailed, "userinfo_format", nil, "userinfo_format: not a JSON object")
	}
	sub := rawSubject(raw[p.cfg.SubjectClaim])
	if p.quirks.userinfo != nil {
		info = p.quirks.userinfo(info)
		if info == nil {
			return nil, "", newError(CodeUserinfoFailed, "userinfo_format", nil, "userinfo_format: not the provider's profile shape")
		}
		if sub == "" {
			sub, _ = subjectString(info[p.cfg.SubjectClaim])
		}
	}
	return info, sub, nil
}

// rawSubject renders a JSON string or integer literal as a subject.
func rawSubject(v json.RawMessage) string {
	if len(v) == 0 {
		return ""
	}
	if v[0] == '"' {
		var s string
		if json.Unmarshal(v, &s) != nil {
			return ""
		}
		return s
	}
	s := strings.TrimPrefix(string(v), "-")
	if s == "" || len(s) > 40 {
		return ""
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "" // fractions, exponents, true, null, objects
		}
	}
	return string(v)
}
