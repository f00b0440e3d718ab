package main

import (
	"io"
	"slices"
	"strings"
	"testing"
)

func TestPageParamsFlag(t *testing.T) {
	for _, tt := range []struct {
		name    string
		args    []string
		env     map[string]string
		want    []string
		wantErr string
	}{
		{name: "default", want: defaultPageParams},
		{name: "from env", env: map[string]string{"DARKSHARE_PAGE_PARAMS": "story, p"}, want: []string{"story", "p"}},
		{name: "flag beats env", args: []string{"--page-params", "article"}, env: map[string]string{"DARKSHARE_PAGE_PARAMS": "story"}, want: []string{"article"}},
		{name: "none", args: []string{"--page-params="}, want: []string{}},
		{name: "a name no query holds", args: []string{"--page-params", "p,a=b"}, wantErr: "--page-params"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseServeFlags(tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cfg.pageParams, tt.want) {
				t.Errorf("page params %#v, want %#v", cfg.pageParams, tt.want)
			}
		})
	}
}
