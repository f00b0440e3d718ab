package server

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/darkshare/darkshare/pkg/stats"
)

// FuzzShareBody sends arbitrary share intents, via included ($E, $W, $T,
// $R and $O in a body stand for the codes of newReshareEnv's links): every
// answer is 204 or a JSON error with a 4xx status; a 204 counts at most one
// share and one reshare, an error neither; and a well-formed body of a code and a via
// gets the answer the code alone gets.
func FuzzShareBody(f *testing.F) {
	for _, seed := range []string{
		`{"code":"$W"}`, `{"code":"$W","via":"$E"}`, `{"code":"$W","via":"$O"}`, `{"code":"$W","via":"$T"}`,
		`{"code":"$R","via":"$E"}`, `{"code":"$T","via":"$E"}`, `{"code":"nosuchcode","via":"$E"}`,
		`{"code":"$W","via":"../$E"}`, `{"code":"$W","via":"\u0000"}`, `{"code":"$W","via":5}`,
		`{"code":"$W","via":"$E","x":1}`, `{"via":"$E"}`, `[]`, `null`, ``, `{`,
	} {
		f.Add(seed)
	}
	env := newReshareEnv(f)
	codes := strings.NewReplacer("$E", env.email, "$W", env.whatsapp, "$T", env.telegram, "$R", env.whatsappRef, "$O", env.otherEmail)
	all := []string{env.email, env.whatsapp, env.telegram, env.whatsappRef, env.otherEmail}
	counted := func(t *testing.T) (shares, reshares uint64) {
		today := stats.DayOf(time.Now())
		for _, code := range all {
			sum, err := env.agg.Summary(context.Background(), code, stats.Period{From: today - 1, To: today + 1})
			if err != nil {
				t.Fatal(err)
			}
			shares += sum.Totals[stats.Shares]
			reshares += stats.BreakdownOf(sum.Totals).Reshares
		}
		return shares, reshares
	}
	f.Fuzz(func(t *testing.T, body string) {
		body = codes.Replace(body)
		shares, reshares := counted(t)
		status, h, got := env.share(t, body)
		afterShares, afterReshares := counted(t)
		if status == http.StatusNoContent {
			if afterShares-shares != 1 || afterReshares-reshares > 1 {
				t.Fatalf("body %q: %d shares and %d reshares counted for one", body, afterShares-shares, afterReshares-reshares)
			}
		} else {
			var e errorResult
			if status < 400 || status > 499 || json.Unmarshal([]byte(got), &e) != nil || e.Error.Code == "" {
				t.Fatalf("body %q: %d %s", body, status, got)
			}
			if afterShares != shares || afterReshares != reshares {
				t.Fatalf("body %q: %d, yet counted", body, status)
			}
		}
		var req struct{ Code, Via *string }
		if json.Unmarshal([]byte(body), &req) != nil || req.Code == nil || req.Via == nil {
			return
		}
		b, _ := json.Marshal(map[string]string{"code": *req.Code})
		if s, h2, g := env.share(t, string(b)); status != http.StatusBadRequest && (s != status || g != got || !maps.EqualFunc(h, h2, slices.Equal)) {
			t.Fatalf("body %q: %d %v %q; without its via: %d %v %q", body, status, h, got, s, h2, g)
		}
	})
}
