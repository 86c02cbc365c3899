// Tools for the Makefile, kept out of the main module: wasmbrowsertest,
// installed as .bin/go_js_wasm_exec. chromedp is pinned to v0.14.2 here (newer
// cdproto prints "could not unmarshal event: unknown IPAddressSpace value"
// lines); the main module may use a newer chromedp independently.
module github.com/cyclegan-wasm/cyclegan/.ci/tools

go 1.27.3

tool github.com/agnivade/wasmbrowsertest

require (
	github.com/agnivade/wasmbrowsertest v0.11.0 // indirect
	github.com/chromedp/cdproto v0.0.0-20250724212937-08a3db8b4327 // indirect
	github.com/chromedp/chromedp v0.14.2 // indirect
	github.com/chromedp/sysutil v1.1.0 // indirect
	github.com/go-interpreter/wagon v0.6.0 // indirect
	github.com/go-json-experiment/json v0.0.0-20250725192818-e39067aee2d2 // indirect
	github.com/gobwas/httphead v0.1.0 // indirect
	github.com/gobwas/pool v0.2.1 // indirect
	github.com/gobwas/ws v1.4.0 // indirect
	github.com/google/pprof v0.0.0-20240727154555-813a5fbdbec8 // indirect
	golang.org/x/sys v0.34.0 // indirect
)
