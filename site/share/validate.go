package share

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/cyclegan-wasm/cyclegan/cyclegan"
	"github.com/cyclegan-wasm/cyclegan/engine/safetensors"
)

// ErrInvalid is wrapped by every reason an upload is refused for its
// content or its fields (a 400 answer).
var ErrInvalid = errors.New("invalid upload")

// generatorInfo is what validation learns from a generator file.
type generatorInfo struct {
	ngf, blocks int
	// resolution and iterations come from the file's __metadata__
	// (crop_size, iteration: what the page and the CLI export write); 0
	// when absent or not a number.
	resolution, iterations int
}

// inspectGenerator checks that b is a bare ResNet generator, refusing what
// the reader the command line uses (cyclegan.UnmarshalGenerator) refuses,
// with the same errors, but through cyclegan.CheckGenerator, which decodes
// no weight: beside the upload itself, validation allocates for the header
// only (some 130 KB for the reference generator's 45.6 MB, where decoding
// it took 137 MB), which is what lets a Worker's 128 MB hold it. Before
// that, a header-size check with the safetensors reader's own cap set to
// maxHeader. Training checkpoints are refused: they carry both generators,
// the discriminators and the optimizer state, and are not what is shared.
func inspectGenerator(b []byte, maxHeader int64) (generatorInfo, error) {
	f, err := safetensors.Parser{MaxHeaderSize: maxHeader}.Parse(b)
	if err != nil {
		return generatorInfo{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if f.Metadata["format"] == cyclegan.CheckpointFormat {
		return generatorInfo{}, fmt.Errorf("%w: this is a training checkpoint; export a generator (G_A or G_B) and share that", ErrInvalid)
	}
	gen, err := cyclegan.CheckGenerator(b, "")
	if err != nil {
		return generatorInfo{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	info := generatorInfo{ngf: gen.NGF, blocks: gen.Blocks}
	metaInt := func(key string, max int) int {
		n, err := strconv.Atoi(gen.Metadata[key])
		if err != nil || n < 0 || n > max {
			return 0
		}
		return n
	}
	info.resolution = metaInt("crop_size", MaxResolution)
	info.iterations = metaInt("iteration", MaxIterations)
	return info, nil
}
