module github.com/cyclegan-wasm/cyclegan

go 1.27.3

require golang.org/x/image v0.48.0
