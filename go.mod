module github.com/cyclegan-wasm/cyclegan

go 1.27.3

require (
	github.com/chromedp/cdproto v0.159.0
	github.com/chromedp/chromedp v0.23.0
	github.com/syumai/workers v0.31.0
	golang.org/x/image v0.48.0
	honnef.co/go/js/dom/v2 v2.0.0-20231112215516-51f43a291193
)

require github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect

tool github.com/syumai/workers/cmd/workers-assets-gen
