module github.com/cyclegan-wasm/cyclegan

go 1.27.3
