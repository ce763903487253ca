import Table from 'cli-table3';
import type { Command } from 'commander';
import { ARCH_IDS, ensureArchModel } from '../models/arch/index.js';
import { findModelSpec } from '../models/manifest.js';
import { UserError } from '../util/errors.js';
import { loadManifest } from '../models/manifest.js';
import { inspectModel } from '../models/inspect.js';
import { locateModel, missingReason, resolveModel } from '../models/resolve.js';
import { ensureModels, fetchAll, fetchModel, listSources, verifyFiles, type FetchResult } from '../models/fetch.js';
import { describePins, isPinned, pinsOf } from '../models/pins.js';
import { EXIT_BAD_INPUT, EXIT_CHECK_FAILED } from '../util/errors.js';
import { assertWritable, emit } from './emit.js';
import { choiceParser } from './options.js';
import { convertCached } from '../convert/cache.js';
import { BATCH_AXES, nativePrecision, PRECISIONS, type BatchAxis, type Precision } from '../convert/tflite-to-onnx.js';

export function registerModels(program: Command): void {
  const models = program.command('models').description('list, inspect and fetch models');

  models
    .command('list', { isDefault: true })
    .description('every manifest model with available / missing / checksum-mismatch')
    .option('--json', 'machine-readable output', false)
    .action((flags: { json: boolean }) => {
      const rows = loadManifest().models.map((spec) => {
        if (spec.source === 'arch') {
          const detail = `built on first use (models build ${spec.id}); ${spec.reference.source}`;
          return {
            id: spec.id,
            aliases: spec.aliases,
            resolution: spec.resolution,
            precision: spec.precision,
            status: 'buildable',
            path: null,
            origin: null,
            detail,
          };
        }
        const loc = locateModel(spec);
        return {
          id: spec.id,
          aliases: spec.aliases,
          resolution: spec.resolution,
          precision: spec.precision,
          status: loc.status,
          path: loc.path ?? null,
          origin: loc.origin ?? null,
          detail:
            loc.status === 'available'
              ? availableDetail(isPinned(pinsOf(spec)), loc.sha256!)
              : missingReason(spec, loc),
        };
      });
      const table = new Table({
        head: ['id', 'alias', 'res', 'status', 'where / why'],
        style: { head: [], border: [] },
        colWidths: [12, 7, 5, 19, 72],
        wordWrap: true,
      });
      for (const r of rows) table.push([r.id, r.aliases.join(','), r.resolution, r.status, r.path ?? r.detail]);
      emit({ value: rows, text: table.toString() }, flags.json);
    });

  models
    .command('build <model>')
    .description(
      'build an architecture-only model (a0-arch, a1-arch, a2-arch: generated weights, latency only) into the cache',
    )
    .option('--force', 'build again even when the cache has it', false)
    .option('--json', 'machine-readable output', false)
    .action((ref: string, flags: { force: boolean; json: boolean }) => {
      const spec = findModelSpec(ref);
      if (spec?.source !== 'arch') {
        throw new UserError(`'${ref}' is not an architecture model; build takes ${ARCH_IDS.join(', ')}`);
      }
      const built = ensureArchModel(spec.id, { force: flags.force });
      if (spec.sha256 && built.sha256 !== spec.sha256) {
        throw new UserError(`${spec.id}: built sha256 ${built.sha256}, the manifest pins ${spec.sha256}`);
      }
      const result = {
        id: spec.id,
        path: built.path,
        bytes: built.bytes.length,
        sha256: built.sha256,
        built: built.built,
        buildMs: Math.round(built.buildMs),
        note: spec.reference.source,
      };
      const how = built.built ? `built in ${result.buildMs} ms` : 'cached';
      const size = `${(result.bytes / 1e6).toFixed(2)} MB`;
      const sha = built.sha256.slice(0, 12);
      emit(
        {
          value: result,
          text: `${spec.id} -> ${built.path} (${size}, ${how}, sha256 ${sha}…)\n${spec.reference.source}`,
        },
        flags.json,
      );
    });

  models
    .command('inspect <model>')
    .description('inputs, outputs, state tensors, op histogram, size and quantization, read from the flatbuffer')
    .option('--json', 'machine-readable output', false)
    .action(async (ref: string, flags: { json: boolean }) => {
      await ensureModels([ref]);
      const info = inspectModel(resolveModel(ref));
      const lines = [
        `${info.id}  ${info.path}`,
        `size ${(info.bytes / 1e6).toFixed(2)} MB (${info.bytes} bytes), sha256 ${info.sha256}`,
        `signature '${info.signatureKey}', ${info.operators} operators, weights ${info.quantization} (${Object.entries(
          info.weightTypes,
        )
          .map(([k, v]) => `${v} ${k}`)
          .join(', ')}; ${info.perChannelQuantizedTensors} per-channel quantized)`,
        `MACs per frame ${(info.macsPerFrame / 1e6).toFixed(1)} M (conv + depthwise + fully connected)`,
        `input  image   [${info.image.shape}] ${info.image.dtype}  (${info.image.tensorName})`,
        `output logits  [${info.logits.shape}] ${info.logits.dtype}  (${info.logits.tensorName})`,
        `states ${info.states.length} (${info.stateElements} elements):`,
        ...info.states.map(
          (s) => `  ${s.name.padEnd(44)} [${s.shape}] ${s.dtype}  in ${s.tensorName}  out ${s.outputTensorName}`,
        ),
        'ops:',
        ...Object.entries(info.opHistogram)
          .sort((a, b) => b[1] - a[1])
          .map(([op, n]) => `  ${op.padEnd(20)} ${n}`),
      ];
      emit({ value: info, text: lines.join('\n') }, flags.json);
    });

  models
    .command('convert <model>')
    .description('convert a TFLite stream model to ONNX (cached by source sha256 and converter version)')
    .requiredOption('--to <format>', 'target format: onnx', choiceParser('--to', ['onnx']))
    .option(
      '--precision <p>',
      'float (fp32 graph), int8 (QDQ; default for int8 models) or int8-exact (TFLite integer arithmetic in fp32 ops)',
      choiceParser('--precision', PRECISIONS),
    )
    .option(
      '--batch <axis>',
      "fixed (the model's batch of one) or free (a symbolic batch axis: one call steps several streams)",
      choiceParser('--batch', BATCH_AXES),
      'fixed',
    )
    .option('--out <file>', 'also copy the ONNX file here')
    .option('--json', 'machine-readable output', false)
    .action(async (ref: string, flags: { precision?: Precision; batch: BatchAxis; out?: string; json: boolean }) => {
      await ensureModels([ref]);
      const model = resolveModel(ref);
      const precision = flags.precision ?? nativePrecision(model.graph);
      if (flags.out) assertWritable(flags.out);
      const onnx = convertCached(model, precision, true, flags.batch);
      const result = {
        model: model.id,
        precision,
        batch: flags.batch,
        path: onnx.path,
        bytes: onnx.bytes.length,
        cached: onnx.cached,
        convertMs: Math.round(onnx.convertMs),
        copiedTo: flags.out ?? null,
      };
      const size = `${(onnx.bytes.length / 1e6).toFixed(2)} MB`;
      const how = onnx.cached ? 'cached' : `converted in ${result.convertMs} ms`;
      const axis = flags.batch === 'free' ? ', free batch axis' : '';
      const text = `${model.id} -> ${onnx.path} (${precision}${axis}, ${size}, ${how})`;
      emit(
        {
          value: result,
          text,
          file: flags.out ? { path: flags.out, contents: onnx.bytes, label: 'copied to' } : undefined,
        },
        flags.json,
      );
    });

  models
    .command('fetch [model]')
    .description(
      'download a manifest model (and its labels) into the cache from its sources (models sources), ' +
        'MOVINET_MIRROR first; nothing when it is already present',
    )
    .option('--all', 'every downloadable model and label set; exit 2 when any cannot be had', false)
    .option('--json', 'machine-readable output', false)
    .action(async (ref: string | undefined, flags: { all: boolean; json: boolean }) => {
      if (flags.all === (ref !== undefined)) throw new UserError('fetch takes a model id, or --all, and not both');
      if (ref !== undefined) {
        const result = await fetchModel(ref);
        emit({ value: result, text: fetchLine(result) }, flags.json);
        return;
      }
      const { fetched, failed } = await fetchAll();
      const lines = [...fetched.map(fetchLine), ...failed.map((f) => `${f.id}: FAILED ${f.reason}`)];
      const code = failed.length ? EXIT_BAD_INPUT : undefined;
      const message = failed.length ? `${failed.length} file(s) could not be fetched (exit 2)` : undefined;
      emit({ value: { fetched, failed }, text: lines.join('\n'), code, message }, flags.json);
    });

  models
    .command('sources [model]')
    .description('where each downloadable file is fetched from, in the order tried, and the pins it must match')
    .option('--json', 'machine-readable output', false)
    .action((ref: string | undefined, flags: { json: boolean }) => {
      const rows = listSources(ref);
      const lines = rows.flatMap((r) => [
        `${r.id}  ${r.file}  (${describePins(r.pins)})`,
        ...(r.sources.length
          ? r.sources.map((u, i) => `  ${i + 1}. ${u}`)
          : ['  (no source: MOVINET_SOURCES or MOVINET_MIRROR can name one)']),
      ]);
      emit({ value: rows, text: lines.join('\n') }, flags.json);
    });

  models
    .command('verify')
    .description('check every present model and label file against its pins (exit 1 when one fails); downloads nothing')
    .option('--json', 'machine-readable output', false)
    .action((flags: { json: boolean }) => {
      const rows = verifyFiles();
      const table = new Table({
        head: ['id', 'status', 'where / why'],
        style: { head: [], border: [] },
        colWidths: [12, 12, 90],
        wordWrap: true,
      });
      for (const r of rows) table.push([r.id, r.status, r.path ? `${r.path}: ${r.detail}` : r.detail]);
      const failed = rows.some((r) => r.status === 'failed');
      emit({ value: rows, text: table.toString(), code: failed ? EXIT_CHECK_FAILED : undefined }, flags.json);
    });
}

function availableDetail(pinned: boolean, sha256: string): string {
  return pinned ? 'verified' : `unverified (no pin): sha256 ${sha256}`;
}

function fetchLine(result: FetchResult): string {
  const how = result.alreadyPresent ? 'already present' : `downloaded from ${result.url}`;
  const check = result.verified ? 'verified' : `sha256 ${result.sha256}, unverified: the manifest pins nothing for it`;
  return `${result.id}: ${result.path} (${how}, ${result.bytes} bytes, ${check})`;
}
