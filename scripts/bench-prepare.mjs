// Prepares what www/bench.html needs beyond the site itself, in gitignored folders; used by
// scripts/bench.mjs (and so scripts/bench.sh) and by tests/e2e/bench.test.mjs. Safe to run again:
// each step checks before it acts.
//
//   www/vendor/ort/        onnxruntime-web's WebGPU build, copied from node_modules (same origin)
//   www/bench-build/       the UNet as ONNX (teacher at batch 2, student at batch 1), exported by
//                          scripts/train/diffusion_lab/export_onnx.py; while www/models has no
//                          student yet, a manifest with a *stand-in* student (a copy of the
//                          teacher's weights: same config, so the same work per pass)
//   www/bench-build/bench.json   what bench.js reads: manifest URL, ONNX files, export errors
//
//   node scripts/bench-prepare.mjs

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WWW = path.join(REPO, 'www');
const BUILD = path.join(WWW, 'bench-build');
const VENDOR = path.join(WWW, 'vendor', 'ort');
const ORT_DIST = path.join(REPO, 'node_modules', 'onnxruntime-web', 'dist');
// ort.webgpu.min.mjs loads the asyncify build of the wasm runtime (its WebGPU execution provider)
export const ORT_FILES = ['ort.webgpu.min.mjs', 'ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'];

const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : -1);
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

function copyOrt(log) {
  mkdirSync(VENDOR, { recursive: true });
  const pkg = path.join(REPO, 'node_modules', 'onnxruntime-web', 'package.json');
  if (!existsSync(pkg)) throw new Error('node_modules/onnxruntime-web is missing: run `npm ci` (scripts/setup.sh does)');
  let copied = 0;
  for (const f of ORT_FILES) {
    const src = path.join(ORT_DIST, f);
    const dst = path.join(VENDOR, f);
    if (!existsSync(dst) || statSync(dst).size !== statSync(src).size || mtime(dst) < mtime(src)) {
      copyFileSync(src, dst);
      copied++;
    }
  }
  const version = JSON.parse(readFileSync(pkg, 'utf8')).version;
  if (copied) log(`[bench] copied onnxruntime-web ${version} into www/vendor/ort`);
  return version;
}

/** The manifest the benchmark loads: the real one when it has a student, else one with a stand-in. */
function benchManifest(log) {
  const real = JSON.parse(readFileSync(path.join(WWW, 'models', 'manifest.json'), 'utf8'));
  if (real.student) {
    return { url: './models/manifest.json', studentStandIn: false, studentWeights: path.join(WWW, 'models', real.student.weights) };
  }
  const teacher = path.join(WWW, 'models', real.denoiser.weights);
  const standIn = path.join(BUILD, 'student-standin.safetensors');
  if (mtime(standIn) < mtime(teacher)) copyFileSync(teacher, standIn);
  // manifests name plain files beside them (src/weights.rs refuses paths): copy the real ones here
  for (const f of real.files) {
    const to = path.join(BUILD, f.name);
    if (mtime(to) < mtime(path.join(WWW, 'models', f.name))) copyFileSync(path.join(WWW, 'models', f.name), to);
  }
  const files = [...real.files];
  const bytes = readFileSync(standIn);
  files.push({ name: 'student-standin.safetensors', bytes: bytes.length, sha256: sha256(bytes) });
  const manifest = {
    denoiser: real.denoiser,
    student: { config: real.denoiser.config, weights: 'student-standin.safetensors' },
    text_encoder: real.text_encoder,
    files,
  };
  writeFileSync(path.join(BUILD, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  log('[bench] www/models has no student yet: benchmarking a stand-in student (the teacher\'s weights, same config and cost)');
  return { url: './bench-build/manifest.json', studentStandIn: true, studentWeights: standIn };
}

/**
 * A python that has torch and onnx: $DLAB_BENCH_PYTHON, .cache/bench-venv (scripts/bench.sh), the
 * project's .venv (scripts/test.sh installs both there), python3.
 */
function findPython() {
  const candidates = [process.env.DLAB_BENCH_PYTHON, path.join(REPO, '.cache/bench-venv/bin/python'),
    path.join(REPO, '.venv/bin/python'), 'python3'].filter(Boolean);
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch, onnx'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return null;
}

function exportOnnx(name, weights, batch, log) {
  const out = path.join(BUILD, `${name}-b${batch}.onnx`);
  const sources = [weights, path.join(WWW, 'models', 'denoiser.json'),
    ...['unet.py', 'export_onnx.py'].map((f) => path.join(REPO, 'scripts/train/diffusion_lab', f))];
  const report = path.join(BUILD, `${name}.export.json`);
  if (mtime(out) > Math.max(...sources.map(mtime)) && existsSync(report)) {
    return JSON.parse(readFileSync(report, 'utf8')).files[path.basename(out)];
  }
  const py = findPython();
  if (!py) throw new Error('exporting the UNet to ONNX needs python with torch and onnx (scripts/bench.sh installs onnx into .cache/bench-venv)');
  log(`[bench] exporting ${name} to ONNX (batch ${batch})`);
  const r = spawnSync(py, ['-m', 'diffusion_lab.export_onnx', '--config', path.join(WWW, 'models', 'denoiser.json'),
    '--weights', weights, '--out', BUILD, '--name', name, '--batch', String(batch)], {
    cwd: path.join(REPO, 'scripts/train'),
    env: { ...process.env, OMP_NUM_THREADS: '1' },
    encoding: 'utf8',
  });
  if (r.stdout) log(r.stdout.trim());
  if (r.status !== 0) throw new Error(`export_onnx failed:\n${r.stderr}`);
  return JSON.parse(readFileSync(report, 'utf8')).files[path.basename(out)];
}

/** Prepares everything; returns the bench.json object (also written to www/bench-build/bench.json). */
export function prepareBench({ log = console.log } = {}) {
  mkdirSync(BUILD, { recursive: true });
  const ortVersion = copyOrt(log);
  const m = benchManifest(log);
  const teacherWeights = path.join(WWW, 'models', 'denoiser.safetensors');
  const teacher = exportOnnx('teacher', teacherWeights, 2, log);
  const student = exportOnnx('student', m.studentWeights, 1, log);
  const config = {
    manifest: m.url,
    studentStandIn: m.studentStandIn,
    ortVersion,
    ort: './vendor/ort/ort.webgpu.min.mjs',
    onnx: {
      2: { model: 'teacher', url: './bench-build/teacher-b2.onnx', ...teacher },
      1: { model: 'student', url: './bench-build/student-b1.onnx', ...student },
    },
  };
  writeFileSync(path.join(BUILD, 'bench.json'), JSON.stringify(config, null, 2) + '\n');
  return config;
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isMain) console.log(JSON.stringify(prepareBench(), null, 2));
