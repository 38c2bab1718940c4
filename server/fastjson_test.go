package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestURLResponseJSON: the hand-written answer of /oauth2/url is byte for
// byte what jsonSerializer writes.
func TestURLResponseJSON(t *testing.T) {
	cases := []urlResponse{
		{},
		{URL: "https://op.example.com/authorize?client_id=c&nonce=n&redirect_uri=https%3A%2F%2Fapp%2Fcb&response_type=code&scope=openid+email", State: "eyJhbGciOiJkaXIifQ..a.b.c", ExpiresIn: 600},
		{URL: `<script>&amp;"quoted"\back`, State: "tab\tnl\ncr\rbs\bff\f\x00\x1f\x7f", ExpiresIn: -1},
		{URL: "ünïcödé 😀 \u2028\u2029", State: "invalid \xff\xfe utf-8", ExpiresIn: 1 << 62},
		{URL: "a/b?c=d#e", State: "~!@$%^*()_+-=[]{}|;:',./", ExpiresIn: 0},
	}
	for _, u := range cases {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(u); err != nil {
			t.Fatal(err)
		}
		if got := u.appendJSON(nil); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("\n got %q\nwant %q", got, want.Bytes())
		}
	}
}

// TestWriteURLResponse: the same status, content type and body as c.JSON
// through jsonSerializer, with and without ?pretty.
func TestWriteURLResponse(t *testing.T) {
	u := urlResponse{URL: "https://op/authorize?a=b&c=d", State: "s.t.a.t.e", ExpiresIn: 600}
	for _, target := range []string{"/oauth2/url?provider=p", "/oauth2/url?provider=p&pretty"} {
		e := echo.New()
		e.JSONSerializer = jsonSerializer{}
		serve := func(h echo.HandlerFunc) *httptest.ResponseRecorder {
			rec := httptest.NewRecorder()
			if err := h(e.NewContext(httptest.NewRequest(http.MethodGet, target, nil), rec)); err != nil {
				t.Fatal(err)
			}
			return rec
		}
		got := serve(func(c echo.Context) error { return writeURLResponse(c, http.StatusOK, u) })
		want := serve(func(c echo.Context) error { return c.JSON(http.StatusOK, u) })
		if got.Code != want.Code || got.Header().Get("Content-Type") != want.Header().Get("Content-Type") || got.Body.String() != want.Body.String() {
			t.Errorf("%s:\n got %d %q %q\nwant %d %q %q", target, got.Code, got.Header().Get("Content-Type"), got.Body,
				want.Code, want.Header().Get("Content-Type"), want.Body)
		}
	}
}
