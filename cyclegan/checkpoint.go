package cyclegan

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/cyclegan-wasm/cyclegan/engine"
	"github.com/cyclegan-wasm/cyclegan/engine/safetensors"
)

// Checkpoint format: one safetensors file. Tensors:
//
//	G_A.model.1.weight …, G_B.…, D_A.model.0.weight …, D_B.…   the four networks
//	optimizer_G.exp_avg.G_A.model.1.weight …                     Adam first moments
//	optimizer_G.exp_avg_sq.G_A.model.1.weight …                  Adam second moments
//	optimizer_D.…                                                likewise for D_A, D_B
//	pool_A.0 … pool_A.k, pool_B.0 …                               the image pools, [1, 3, S, S]
//
// and in __metadata__: format, format_version, config (JSON), iteration,
// bad_steps, optimizer_G.step, optimizer_D.step, pool_rng (the PCG state,
// base64), plus whatever the caller adds (the data pipeline's state). An
// optimiser's step is its first network's Adam step count; a later network
// whose count differs (D_B after a discarded step of D_A's or its own) has
// its own key, optimizer_D.step.D_B.
const (
	CheckpointFormat  = "cyclegan-wasm/checkpoint"
	CheckpointVersion = 1
)

// Errors that name what is wrong with a weight file; each is wrapped with
// the key or value concerned.
var (
	ErrNotCheckpoint = errors.New("not a training checkpoint")
	ErrVersion       = errors.New("unsupported checkpoint version")
	ErrMissingKey    = errors.New("missing key")
	ErrUnexpectedKey = errors.New("unexpected key")
	ErrShape         = errors.New("wrong shape")
	ErrDType         = errors.New("wrong dtype")
	ErrNotGenerator  = errors.New("not a ResNet generator")
)

// reservedMetadata are the metadata keys the checkpoint itself uses.
var reservedMetadata = []string{"format", "format_version", "config", "iteration", "bad_steps",
	"optimizer_G.step", "optimizer_D.step", "pool_rng",
	"optimizer_G.step.G_A", "optimizer_G.step.G_B", "optimizer_D.step.D_A", "optimizer_D.step.D_B"}

// MarshalCheckpoint encodes everything needed to resume t exactly: weights,
// Adam moments and step counts, pools, the pool random state, the iteration
// and the configuration. extra is stored in the metadata too (the data
// pipeline's state); its keys must not collide with the checkpoint's own.
func MarshalCheckpoint(t *Trainer, extra map[string]string) ([]byte, error) {
	tensors := map[string]safetensors.Tensor{}
	for _, n := range t.Networks() {
		for _, p := range n.Net.Parameters() {
			tensors[n.Name+"."+p.Name] = f32(p.Tensor.Shape, p.Tensor.Data)
		}
	}
	meta := map[string]string{}
	for _, o := range []struct {
		name string
		opt  *engine.Adam
		nets []NamedNetwork
	}{{"optimizer_G", t.OptG, t.Networks()[:2]}, {"optimizer_D", t.OptD, t.Networks()[2:]}} {
		i := 0
		meta[o.name+".step"] = strconv.FormatInt(o.opt.Steps[0], 10)
		for _, n := range o.nets {
			first := i
			for _, p := range n.Net.Parameters() {
				key := n.Name + "." + p.Name
				tensors[o.name+".exp_avg."+key] = f32(p.Tensor.Shape, o.opt.M[i])
				tensors[o.name+".exp_avg_sq."+key] = f32(p.Tensor.Shape, o.opt.V[i])
				if o.opt.Steps[i] != o.opt.Steps[first] {
					return nil, fmt.Errorf("checkpoint: %s: parameters of %s at different steps", o.name, n.Name)
				}
				i++
			}
			if o.opt.Steps[first] != o.opt.Steps[0] {
				meta[o.name+".step."+n.Name] = strconv.FormatInt(o.opt.Steps[first], 10)
			}
		}
	}
	for _, pool := range []struct {
		name string
		p    *ImagePool
	}{{"pool_A", t.PoolA}, {"pool_B", t.PoolB}} {
		for i, img := range pool.p.Images {
			tensors[fmt.Sprintf("%s.%d", pool.name, i)] = f32(img.Shape, img.Data)
		}
	}
	cfg, err := json.Marshal(t.Config)
	if err != nil {
		return nil, err
	}
	rng, err := t.PoolRNG.MarshalBinary()
	if err != nil {
		return nil, err
	}
	for k, v := range extra {
		if slices.Contains(reservedMetadata, k) {
			return nil, fmt.Errorf("checkpoint: extra metadata key %q is reserved", k)
		}
		meta[k] = v
	}
	meta["format"] = CheckpointFormat
	meta["format_version"] = strconv.Itoa(CheckpointVersion)
	meta["config"] = string(cfg)
	meta["iteration"] = strconv.Itoa(t.Iteration)
	meta["bad_steps"] = strconv.Itoa(t.BadSteps)
	meta["pool_rng"] = base64.StdEncoding.EncodeToString(rng)
	return safetensors.Marshal(tensors, meta)
}

// Checkpoint is MarshalCheckpoint(t, extra): the Trainer as a Session's
// Stepper.
func (t *Trainer) Checkpoint(extra map[string]string) ([]byte, error) {
	return MarshalCheckpoint(t, extra)
}

// UnmarshalCheckpoint rebuilds a trainer from a checkpoint, ready to take
// the step the saved one would have taken next, and returns the metadata
// (the caller's extra keys among it). Every problem is an error that names
// it: a malformed file, another format or version, a missing, unexpected or
// misshapen tensor.
func UnmarshalCheckpoint(b []byte) (*Trainer, map[string]string, error) {
	f, err := safetensors.Parse(b)
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: %w", err)
	}
	meta := f.Metadata
	if meta["format"] != CheckpointFormat {
		return nil, nil, fmt.Errorf("checkpoint: format %q: %w", meta["format"], ErrNotCheckpoint)
	}
	if v := meta["format_version"]; v != strconv.Itoa(CheckpointVersion) {
		return nil, nil, fmt.Errorf("checkpoint: version %q, this build reads %d: %w", v, CheckpointVersion, ErrVersion)
	}
	var cfg Config
	if err := json.Unmarshal([]byte(meta["config"]), &cfg); err != nil {
		return nil, nil, fmt.Errorf("checkpoint: config: %v: %w", err, ErrNotCheckpoint)
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, fmt.Errorf("checkpoint: %w", err)
	}
	// Weights and two Adam moments: refuse before allocating networks that
	// the file cannot possibly hold.
	if need := 3 * 4 * (2*generatorParams(cfg.NGF, cfg.Blocks) + 2*discriminatorParams(cfg.NDF, cfg.DLayers)); need > len(b) {
		return nil, nil, fmt.Errorf("checkpoint: config %s needs %d bytes of tensors, the file has %d: %w", meta["config"], need, len(b), ErrShape)
	}
	t, err := NewTrainer(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: %w", err)
	}
	ints := map[string]*int{"iteration": &t.Iteration, "bad_steps": &t.BadSteps}
	for k, dst := range ints {
		n, err := strconv.Atoi(meta[k])
		if err != nil || n < 0 {
			return nil, nil, fmt.Errorf("checkpoint: %s %q: %w", k, meta[k], ErrNotCheckpoint)
		}
		*dst = n
	}
	rng, err := base64.StdEncoding.DecodeString(meta["pool_rng"])
	if err == nil {
		err = t.PoolRNG.UnmarshalBinary(rng)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: pool_rng: %v: %w", err, ErrNotCheckpoint)
	}

	used := map[string]bool{}
	take := func(key string, shape []int, dst []float32) error {
		st, ok := f.Tensors[key]
		if !ok {
			return fmt.Errorf("checkpoint: %q: %w", key, ErrMissingKey)
		}
		if err := checkTensor(key, st, shape); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		copyF32(dst, st.Data)
		used[key] = true
		return nil
	}
	for _, o := range []struct {
		name string
		opt  *engine.Adam
		nets []NamedNetwork
	}{{"optimizer_G", t.OptG, t.Networks()[:2]}, {"optimizer_D", t.OptD, t.Networks()[2:]}} {
		steps, err := strconv.ParseInt(meta[o.name+".step"], 10, 64)
		if err != nil || steps < 0 {
			return nil, nil, fmt.Errorf("checkpoint: %s.step %q: %w", o.name, meta[o.name+".step"], ErrNotCheckpoint)
		}
		i := 0
		for _, n := range o.nets {
			steps := steps
			if v, ok := meta[o.name+".step."+n.Name]; ok {
				if steps, err = strconv.ParseInt(v, 10, 64); err != nil || steps < 0 {
					return nil, nil, fmt.Errorf("checkpoint: %s.step.%s %q: %w", o.name, n.Name, v, ErrNotCheckpoint)
				}
			}
			for _, p := range n.Net.Parameters() {
				key := n.Name + "." + p.Name
				for _, e := range []error{
					take(key, p.Tensor.Shape, p.Tensor.Data),
					take(o.name+".exp_avg."+key, p.Tensor.Shape, o.opt.M[i]),
					take(o.name+".exp_avg_sq."+key, p.Tensor.Shape, o.opt.V[i]),
				} {
					if e != nil {
						return nil, nil, e
					}
				}
				o.opt.Steps[i] = steps
				i++
			}
		}
	}
	for _, pool := range []struct {
		name string
		p    *ImagePool
	}{{"pool_A", t.PoolA}, {"pool_B", t.PoolB}} {
		for i := 0; ; i++ {
			key := fmt.Sprintf("%s.%d", pool.name, i)
			if _, ok := f.Tensors[key]; !ok {
				break
			}
			if i >= cfg.PoolSize {
				return nil, nil, fmt.Errorf("checkpoint: %q beyond pool size %d: %w", key, cfg.PoolSize, ErrUnexpectedKey)
			}
			img := engine.New(1, 3, cfg.CropSize, cfg.CropSize)
			if err := take(key, img.Shape, img.Data); err != nil {
				return nil, nil, err
			}
			pool.p.Images = append(pool.p.Images, img)
		}
	}
	for _, name := range f.Names() {
		if !used[name] {
			return nil, nil, fmt.Errorf("checkpoint: %q: %w", name, ErrUnexpectedKey)
		}
	}
	return t, meta, nil
}

// MarshalGenerator encodes g with the bare PyTorch keys (model.1.weight, …),
// loadable with load_state_dict(strict=True) into the reference's
// ResnetGenerator.
func MarshalGenerator(g *Generator, metadata map[string]string) ([]byte, error) {
	tensors := map[string]safetensors.Tensor{}
	for _, p := range g.Parameters() {
		tensors[p.Name] = f32(p.Tensor.Shape, p.Tensor.Data)
	}
	return safetensors.Marshal(tensors, metadata)
}

// UnmarshalGenerator reads a generator from a safetensors file: either a
// bare generator (PyTorch keys model.1.weight, …; ngf and the number of
// blocks are inferred from the shapes) or a training checkpoint, from which
// the generator named net ("G_A" or "G_B") is taken. The norm layers'
// running_mean, running_var and num_batches_tracked of old PyTorch
// checkpoints are ignored, as the reference's loader ignores them; any
// other key that does not fit is an error naming it.
//
// It checks b with CheckGenerator's code, and so fails exactly when
// CheckGenerator(b, net) does, with the same error, before it allocates the
// generator.
func UnmarshalGenerator(b []byte, net string) (*Generator, error) {
	info, weights, err := checkGenerator(b, net)
	if err != nil {
		return nil, err
	}
	g := NewGenerator(info.NGF, info.Blocks)
	for _, p := range g.Parameters() {
		copyF32(p.Tensor.Data, weights[p.Name].Data)
	}
	return g, nil
}

// GeneratorInfo is what CheckGenerator learns of a generator file without
// decoding its weights.
type GeneratorInfo struct {
	// NGF and Blocks are the width and the number of residual blocks
	// inferred from the shapes: UnmarshalGenerator returns
	// NewGenerator(NGF, Blocks) with the file's weights.
	NGF, Blocks int
	// Metadata is the file's __metadata__ (a training checkpoint's own
	// when the generator is taken from one); empty, not nil, when the file
	// has none.
	Metadata map[string]string
}

// CheckGenerator checks b exactly as UnmarshalGenerator(b, net) does — the
// safetensors structure (safetensors.Parse, with its default limits), the
// generator's keys, dtypes and shapes, the keys it ignores and the ones it
// refuses — and fails for the same files with the same errors (wrapping the
// same sentinels), but it decodes no weight: it parses the header and leaves
// the tensors' bytes in b. It allocates in proportion to the header (some
// 70 KB for the reference generator, ngf 64 and 9 blocks), not to the
// 45.6 MB of weights, which UnmarshalGenerator allocates twice over
// (weights and gradients). A nil error means UnmarshalGenerator(b, net)
// succeeds with a generator of info.NGF and info.Blocks.
//
// Like UnmarshalGenerator, it takes the generator named net ("G_A" or
// "G_B") from a training checkpoint and refuses a checkpoint for any other
// net, "" included.
func CheckGenerator(b []byte, net string) (GeneratorInfo, error) {
	info, _, err := checkGenerator(b, net)
	return info, err
}

// checkGenerator is CheckGenerator, also returning the generator's tensors
// by parameter name (exactly the parameters of NewGenerator(info.NGF,
// info.Blocks)), their Data pointing into b.
func checkGenerator(b []byte, net string) (GeneratorInfo, map[string]safetensors.Tensor, error) {
	f, err := safetensors.Parse(b)
	if err != nil {
		return GeneratorInfo{}, nil, fmt.Errorf("generator: %w", err)
	}
	tensors := f.Tensors
	if f.Metadata["format"] == CheckpointFormat {
		if net != "G_A" && net != "G_B" {
			return GeneratorInfo{}, nil, fmt.Errorf("generator: a training checkpoint holds G_A and G_B; choose one, not %q", net)
		}
		tensors = map[string]safetensors.Tensor{}
		for k, v := range f.Tensors {
			if rest, ok := strings.CutPrefix(k, net+"."); ok {
				tensors[rest] = v
			}
		}
	}
	for k := range tensors {
		if strings.HasSuffix(k, ".running_mean") || strings.HasSuffix(k, ".running_var") || strings.HasSuffix(k, ".num_batches_tracked") {
			delete(tensors, k)
		}
	}
	first, ok := tensors["model.1.weight"]
	if !ok {
		return GeneratorInfo{}, nil, fmt.Errorf("generator: %q: %w (%w)", "model.1.weight", ErrMissingKey, ErrNotGenerator)
	}
	if len(first.Shape) != 4 || first.Shape[1] != 3 || first.Shape[2] != 7 || first.Shape[3] != 7 || first.Shape[0] < 1 || first.Shape[0] > 1024 {
		return GeneratorInfo{}, nil, fmt.Errorf("generator: %q has shape %v, want [ngf 3 7 7]: %w", "model.1.weight", first.Shape, ErrShape)
	}
	ngf := first.Shape[0]
	blocks := 0
	for {
		if _, ok := tensors[fmt.Sprintf("model.%d.conv_block.1.weight", 10+blocks)]; !ok {
			break
		}
		blocks++
	}
	if need := 4 * generatorParams(ngf, blocks); need > len(b) {
		return GeneratorInfo{}, nil, fmt.Errorf("generator: ngf %d with %d blocks needs %d bytes, the file has %d: %w", ngf, blocks, need, len(b), ErrShape)
	}
	layout := generatorLayout(ngf, blocks)
	weights := make(map[string]safetensors.Tensor, len(layout))
	for _, p := range layout {
		st, ok := tensors[p.name]
		if !ok {
			return GeneratorInfo{}, nil, fmt.Errorf("generator (ngf %d, %d blocks): %q: %w", ngf, blocks, p.name, ErrMissingKey)
		}
		if err := checkTensor(p.name, st, p.shape); err != nil {
			return GeneratorInfo{}, nil, fmt.Errorf("generator (ngf %d, %d blocks): %w", ngf, blocks, err)
		}
		weights[p.name] = st
	}
	// Every name of the layout is in tensors: any more is one too many.
	if len(tensors) > len(weights) {
		var keys []string
		for k := range tensors {
			if _, ok := weights[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		return GeneratorInfo{}, nil, fmt.Errorf("generator (ngf %d, %d blocks): %q: %w", ngf, blocks, keys[0], ErrUnexpectedKey)
	}
	return GeneratorInfo{NGF: ngf, Blocks: blocks, Metadata: f.Metadata}, weights, nil
}

// paramShape is one parameter of a network as a file holds it: its
// state-dict name and its shape.
type paramShape struct {
	name  string
	shape []int
}

// generatorLayout lists the parameters of NewGenerator(ngf, blocks), in
// state-dict order, without allocating them: its Parameters' names and
// shapes (TestGeneratorLayout holds the two together).
func generatorLayout(ngf, blocks int) []paramShape {
	l := make([]paramShape, 0, 2*(5+2*blocks))
	// conv adds a convolution's weight (its shape given: [out, in, kH, kW],
	// or [in, out, kH, kW] when transposed) and its bias of out elements.
	conv := func(prefix string, out int, weight ...int) {
		l = append(l, paramShape{prefix + ".weight", weight}, paramShape{prefix + ".bias", []int{out}})
	}
	conv("model.1", ngf, ngf, 3, 7, 7)
	conv("model.4", 2*ngf, 2*ngf, ngf, 3, 3)
	conv("model.7", 4*ngf, 4*ngf, 2*ngf, 3, 3)
	for i := range blocks {
		prefix := fmt.Sprintf("model.%d.conv_block", 10+i)
		conv(prefix+".1", 4*ngf, 4*ngf, 4*ngf, 3, 3)
		conv(prefix+".5", 4*ngf, 4*ngf, 4*ngf, 3, 3)
	}
	conv(fmt.Sprintf("model.%d", 10+blocks), 2*ngf, 4*ngf, 2*ngf, 3, 3) // transposed
	conv(fmt.Sprintf("model.%d", 13+blocks), ngf, 2*ngf, ngf, 3, 3)     // transposed
	conv(fmt.Sprintf("model.%d", 17+blocks), 3, 3, ngf, 7, 7)
	return l
}

// generatorParams is CountParameters(NewGenerator(ngf, blocks)), without
// building it.
func generatorParams(ngf, blocks int) int {
	conv := func(out, in, k int) int { return out*in*k*k + out }
	return conv(ngf, 3, 7) + conv(2*ngf, ngf, 3) + conv(4*ngf, 2*ngf, 3) +
		2*blocks*conv(4*ngf, 4*ngf, 3) +
		conv(2*ngf, 4*ngf, 3) + conv(ngf, 2*ngf, 3) + conv(3, ngf, 7)
}

// discriminatorParams is CountParameters(NewDiscriminator(ndf, layers)).
func discriminatorParams(ndf, layers int) int {
	n := ndf*3*16 + ndf
	mult := 1
	for i := 1; i <= layers; i++ {
		prev := mult
		mult = min(1<<i, 8)
		n += ndf*mult*ndf*prev*16 + ndf*mult
	}
	return n + ndf*mult*16 + 1
}

func checkTensor(key string, st safetensors.Tensor, shape []int) error {
	if st.DType != "F32" {
		return fmt.Errorf("%q is %s, want F32: %w", key, st.DType, ErrDType)
	}
	if !slices.Equal(st.Shape, shape) {
		return fmt.Errorf("%q has shape %v, want %v: %w", key, st.Shape, shape, ErrShape)
	}
	return nil
}

func f32(shape []int, data []float32) safetensors.Tensor {
	if shape == nil {
		shape = []int{}
	}
	return safetensors.F32(shape, data)
}

// copyF32 decodes little-endian float32 bytes into dst (lengths checked by
// the caller through the shape), without an intermediate slice: a
// generator's weights are tens of MB.
func copyF32(dst []float32, src []byte) {
	if len(src) != 4*len(dst) {
		panic("cyclegan: copyF32: the bytes do not fit the destination")
	}
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
	}
}

// WriteFileAtomic writes data to path so that path holds either its old
// contents or all of data, never a part: it writes a temporary file in the
// same directory, syncs it and renames it over path.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	// CreateTemp makes the file private (0600); what we write is the
	// user's ordinary output, readable like any file they save.
	err = tmp.Chmod(0o644)
	if err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(name, path)
	}
	if err != nil {
		os.Remove(name)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
