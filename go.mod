module github.com/cyclegan-wasm/cyclegan

go 1.27.3

require (
	golang.org/x/image v0.48.0
	honnef.co/go/js/dom/v2 v2.0.0-20231112215516-51f43a291193
)
