package server

import (
	"bytes"
	"encoding/json"
	"strconv"
	"sync"

	"github.com/labstack/echo/v4"
)

// The answer of /oauth2/url is written without reflection: it is the
// hottest body edgeauth sends, and encoding/json's encoder was a tenth of
// the request's CPU. The bytes are those of jsonSerializer (no HTML
// escaping, a trailing newline); TestURLResponseJSON pins that.

var jsonBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// writeURLResponse answers with u as JSON. ?pretty and Echo's debug mode
// go through c.JSON, which indents.
func writeURLResponse(c echo.Context, status int, u urlResponse) error {
	if _, pretty := c.QueryParams()["pretty"]; pretty || c.Echo().Debug {
		return c.JSON(status, u)
	}
	bp := jsonBufs.Get().(*[]byte)
	b := u.appendJSON((*bp)[:0])
	err := c.Blob(status, echo.MIMEApplicationJSON, b)
	if cap(b) <= 64<<10 {
		*bp = b
		jsonBufs.Put(bp)
	}
	return err
}

// appendJSON appends u as encoding/json with SetEscapeHTML(false) writes it.
func (u urlResponse) appendJSON(b []byte) []byte {
	b = append(b, `{"url":`...)
	b = appendJSONString(b, u.URL)
	b = append(b, `,"state":`...)
	b = appendJSONString(b, u.State)
	b = append(b, `,"expires_in":`...)
	b = strconv.AppendInt(b, u.ExpiresIn, 10)
	return append(b, "}\n"...)
}

// appendJSONString appends s as a JSON string. Printable ASCII other than
// the quote and the backslash is copied as it is, which is every URL and
// state edgeauth makes; anything else goes through encoding/json, so that
// its escaping (control characters, invalid UTF-8, U+2028) is exactly
// the same.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(s) // a string always encodes
			return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
