//go:build js && wasm

package wasm

import (
	"encoding/binary"
	"net/url"
	"reflect"
	"strings"
	"syscall/js"
	"testing"
)

func TestPageShareID(t *testing.T) {
	good := map[string]string{
		"abc123":                            "abc123",
		"  Xy_z-9  ":                        "Xy_z-9",
		"http://127.0.0.1:8080/?model=k1":   "k1",
		"https://example.org/?model=k2&x=1": "k2",
		"/?model=k3":                        "k3",
		"?model=k4":                         "k4",
		"https://example.org/app/index.html?model=k5": "k5",
	}
	for in, want := range good {
		if got, err := pageShareID(in); err != nil || got != want {
			t.Errorf("pageShareID(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "   ", "a b", "../etc", "https://example.org/?model=", "?model=a/b", "https://example.org/"} {
		if got, err := pageShareID(in); err == nil {
			t.Errorf("pageShareID(%q) = %q, want an error", in, got)
		}
	}
}

func TestPageShareLinkID(t *testing.T) {
	for search, want := range map[string]string{
		"":                 "",
		"?model=abc":       "abc",
		"?x=1&model=d-e_f": "d-e_f",
		"?model=a%2Fb":     "",
		"?model":           "",
		"?other=abc":       "",
	} {
		if got := pageShareLinkID(search); got != want {
			t.Errorf("pageShareLinkID(%q) = %q, want %q", search, got, want)
		}
	}
}

func TestPageShareLink(t *testing.T) {
	loc := js.Global().Get("location")
	if !loc.Truthy() {
		t.Skip("no location")
	}
	got := pageShareLink("abc_1")
	u, err := url.Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if u.Query().Get("model") != "abc_1" || !strings.HasPrefix(got, loc.Get("origin").String()+"/") {
		t.Errorf("pageShareLink = %q: want this origin with ?model=abc_1", got)
	}
	// The link names the page's directory, not its file.
	if strings.HasSuffix(u.Path, ".html") {
		t.Errorf("pageShareLink = %q names a file", got)
	}
}

func TestPageShareQuery(t *testing.T) {
	q, err := url.ParseQuery(pageShareQuery(pageShareUpload{
		Name: "Warm & cool → stripes", DomainA: "styleA", DomainB: "style B", Resolution: 32, Iterations: 60,
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{"name": {"Warm & cool → stripes"}, "domainA": {"styleA"}, "domainB": {"style B"},
		"resolution": {"32"}, "iterations": {"60"}}
	if !reflect.DeepEqual(q, want) {
		t.Errorf("query %v, want %v", q, want)
	}
	// Unknowns are left out.
	if got := pageShareQuery(pageShareUpload{Name: "x"}); got != "name=x" {
		t.Errorf("query %q, want name=x", got)
	}
}

func TestPageShareFolderName(t *testing.T) {
	tests := []struct{ path, domain, want string }{
		{"horses/1.jpg", "A", "horses"},
		{"horses/sub/2.jpg", "A", "horses"},
		{"styleB/stripes00.png", "B", "styleB"},
		{"1.png", "A", ""},
		{"horse2zebra/trainA/a.jpg", "A", "horse"},
		{"horse2zebra/trainB/b.jpg", "B", "zebra"},
		{"summer2winter_yosemite/TrainB/x/b.jpg", "B", "winter_yosemite"},
		{"cityscapes/trainA/a.jpg", "A", "cityscapes A"},
		{"2x2/trainB/a.jpg", "B", "2x2 B"},
		{"trainA/a.jpg", "A", "trainA"},
	}
	for _, tt := range tests {
		if got := pageShareFolderName(tt.path, tt.domain); got != tt.want {
			t.Errorf("pageShareFolderName(%q, %s) = %q, want %q", tt.path, tt.domain, got, tt.want)
		}
	}
}

func TestPageSharedLine(t *testing.T) {
	tests := []struct {
		m    pageShared
		want string
	}{
		{pageShared{DomainA: "horse", DomainB: "zebra", Resolution: 64, NGF: 16, Blocks: 3, Iterations: 2000},
			"horse → zebra · 64 px · ngf 16, 3 blocks · 2000 iterations"},
		{pageShared{DomainB: "zebra", NGF: 8, Blocks: 0}, "A → zebra · ngf 8, 0 blocks"},
		{pageShared{}, "A → B generator"},
	}
	for _, tt := range tests {
		if got := pageSharedLine(tt.m); got != tt.want {
			t.Errorf("pageSharedLine(%+v) = %q, want %q", tt.m, got, tt.want)
		}
	}
	if got := pageSharedTitle(pageShared{ID: "k1", Name: " "}); got != "k1" {
		t.Errorf("title without a name = %q, want the id", got)
	}
}

func TestPageGeneratorMetadata(t *testing.T) {
	header := []byte(`{"__metadata__":{"net":"G_A","crop_size":"32","iteration":"60"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`)
	file := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	file = append(file, header...)
	file = append(file, 0, 0, 0, 0)
	want := map[string]string{"net": "G_A", "crop_size": "32", "iteration": "60"}
	if got := pageGeneratorMetadata(file); !reflect.DeepEqual(got, want) {
		t.Errorf("metadata %v, want %v", got, want)
	}
	// Through an ArrayBuffer, as the worker sends it.
	if got := pageGeneratorMetadata(pageJSHeader(bytesToJS(file))); !reflect.DeepEqual(got, want) {
		t.Errorf("metadata from JS %v, want %v", got, want)
	}
	for name, b := range map[string][]byte{
		"empty":     nil,
		"short":     file[:5],
		"cut":       file[:20],
		"not JSON":  append(binary.LittleEndian.AppendUint64(nil, 3), "abc"...),
		"huge size": binary.LittleEndian.AppendUint64(nil, 1<<40),
	} {
		if got := pageGeneratorMetadata(b); got != nil {
			t.Errorf("%s: metadata %v, want nil", name, got)
		}
		if got := pageJSHeader(bytesToJS(b)); got != nil && len(b) < 8 {
			t.Errorf("%s: header %v, want nil", name, got)
		}
	}
}

func TestPageShareError(t *testing.T) {
	tests := []struct {
		status int
		body   string
		want   string
	}{
		{400, `{"error":"name is required"}`, "name is required (HTTP 400)"},
		{413, `{"error":" the model is larger than 50 MB "}`, "the model is larger than 50 MB (HTTP 413)"},
		{404, "404 page not found\n", "there is no such shared generator on this server (HTTP 404)"},
		{403, ``, "the server refused: the delete token does not match (HTTP 403)"},
		{418, `{"error":""}`, "the server answered with an error (HTTP 418)"},
	}
	for _, tt := range tests {
		if got := pageShareError(tt.status, tt.body).Error(); got != tt.want {
			t.Errorf("pageShareError(%d, %q) = %q, want %q", tt.status, tt.body, got, tt.want)
		}
	}
}

// TestPageShareFetch runs the API calls against a stand-in for fetch that
// answers like the server: the request the page makes (method, relative
// URL, headers, body) and how it reads the answers.
func TestPageShareFetch(t *testing.T) {
	g := js.Global()
	if g.Get("Response").Type() != js.TypeFunction {
		t.Skip("no fetch Response")
	}
	type seen struct {
		method, url, token, ctype string
		body                      []byte
	}
	var got []seen
	realFetch := g.Get("fetch")
	fake := js.FuncOf(func(_ js.Value, args []js.Value) any {
		opts := args[1]
		s := seen{method: opts.Get("method").String(), url: args[0].String()}
		h := opts.Get("headers")
		if v := h.Get("X-Delete-Token"); v.Type() == js.TypeString {
			s.token = v.String()
		}
		if v := h.Get("Content-Type"); v.Type() == js.TypeString {
			s.ctype = v.String()
		}
		if b := opts.Get("body"); b.Truthy() {
			s.body = bytesFromJS(b)
		}
		got = append(got, s)
		status, body := 200, `{"models":[{"id":"k1","name":"n","domainA":"a","domainB":"b","resolution":32,"ngf":8,"blocks":2,"iterations":60,"size":1234,"date":1700000000000}]}`
		switch {
		case s.method == "POST" && len(s.body) == 0:
			status, body = 400, `{"error":"the body is empty"}`
		case s.method == "POST":
			status, body = 201, `{"id":"k2","deleteToken":"tok","model":{"id":"k2","name":"x"}}`
		case s.method == "DELETE":
			status, body = 204, ""
		}
		var resp js.Value
		if status == 204 {
			resp = g.Get("Response").New(js.Null(), map[string]any{"status": status})
		} else {
			resp = g.Get("Response").New(body, map[string]any{"status": status, "headers": map[string]any{"Content-Type": "application/json"}})
		}
		return g.Get("Promise").Call("resolve", resp)
	})
	g.Set("fetch", fake)
	defer func() {
		g.Set("fetch", realFetch)
		fake.Release()
	}()

	var list struct {
		Models []pageShared `json:"models"`
	}
	if _, err := pageShareJSON("GET", pageShareAPI, js.Undefined(), nil, &list); err != nil {
		t.Fatal(err)
	}
	want := pageShared{ID: "k1", Name: "n", DomainA: "a", DomainB: "b", Resolution: 32, NGF: 8, Blocks: 2, Iterations: 60, Size: 1234, Date: 1700000000000}
	if len(list.Models) != 1 || list.Models[0] != want {
		t.Errorf("list %+v, want [%+v]", list.Models, want)
	}

	var created struct {
		ID          string `json:"id"`
		DeleteToken string `json:"deleteToken"`
	}
	status, err := pageShareJSON("POST", pageShareAPI+"?name=x", bytesToJS([]byte{1, 2, 3}),
		map[string]any{"Content-Type": "application/octet-stream"}, &created)
	if err != nil || status != 201 || created.ID != "k2" || created.DeleteToken != "tok" {
		t.Errorf("upload: %d %+v %v", status, created, err)
	}
	if _, err := pageShareJSON("POST", pageShareAPI+"?name=x", bytesToJS(nil), nil, &created); err == nil || err.Error() != "the body is empty (HTTP 400)" {
		t.Errorf("rejected upload: error %v, want the server's reason", err)
	}
	status, _, err = pageShareFetch("DELETE", pageShareAPI+"/k2", js.Undefined(), map[string]any{"X-Delete-Token": "tok"})
	if err != nil || status != 204 {
		t.Errorf("delete: %d %v", status, err)
	}

	if len(got) != 4 {
		t.Fatalf("%d requests, want 4: %+v", len(got), got)
	}
	if got[0].method != "GET" || got[0].url != "api/models" {
		t.Errorf("list request %+v", got[0])
	}
	if got[1].url != "api/models?name=x" || got[1].ctype != "application/octet-stream" || !reflect.DeepEqual(got[1].body, []byte{1, 2, 3}) {
		t.Errorf("upload request %+v", got[1])
	}
	if got[3].method != "DELETE" || got[3].url != "api/models/k2" || got[3].token != "tok" {
		t.Errorf("delete request %+v", got[3])
	}
}

// TestPageShareOwned keeps, lists and forgets uploads in localStorage.
func TestPageShareOwned(t *testing.T) {
	if _, err := pageLocalStorage(); err != nil {
		t.Skip(err)
	}
	for _, id := range []string{"t-old", "t-new"} {
		pageShareForget(id)
		defer pageShareForget(id)
	}
	old := pageShareOwned{pageShared: pageShared{ID: "t-old", Name: "old", Date: 1}, DeleteToken: "tok-old"}
	newer := pageShareOwned{pageShared: pageShared{ID: "t-new", Name: "new", Date: 2}, DeleteToken: "tok-new"}
	for _, o := range []pageShareOwned{old, newer} {
		if err := pageShareKeep(o); err != nil {
			t.Fatal(err)
		}
	}
	if o, ok := pageShareOwnedByID("t-old"); !ok || o != old {
		t.Errorf("pageShareOwnedByID = %+v, %v; want %+v", o, ok, old)
	}
	var ids []string
	for _, o := range pageShareOwnedAll() {
		if strings.HasPrefix(o.ID, "t-") {
			ids = append(ids, o.ID)
		}
	}
	if !reflect.DeepEqual(ids, []string{"t-new", "t-old"}) {
		t.Errorf("owned %q, want newest first", ids)
	}
	pageShareForget("t-old")
	if _, ok := pageShareOwnedByID("t-old"); ok {
		t.Error("a forgotten upload is still listed")
	}
	if _, ok := pageShareOwnedByID("t-none"); ok {
		t.Error("an unknown id has a token")
	}
}
