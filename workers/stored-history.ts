/**
 * The format of the stored workflow histories (test/workflows/histories/): read by the replay
 * test, written by the history recorders (scripts/) and by tests that record a path only
 * Temporal's time-skipping server reaches (RECORD_HISTORIES=1).
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root.js';

export type History = proto.temporal.api.history.v1.IHistory;

/** The protojson of @temporalio/proto's own copy of protobufjs (see below), and the History type from it. */
function protojson() {
  const protoRequire = createRequire(createRequire(import.meta.url).resolve('@temporalio/proto'));
  const { fromJson, toJson } = protoRequire('protobufjs/ext/protojson') as {
    fromJson(type: unknown, json: unknown, options?: object): unknown;
    toJson(type: unknown, message: unknown): unknown;
  };
  const historyType = (patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown }).lookupType('temporal.api.history.v1.History');
  return { fromJson, toJson, historyType };
}

/**
 * A history stored as proto JSON (what `historyToJSON` of @temporalio/common and `temporal
 * workflow show --output json` write) as the History object the replayer takes.
 *
 * `Worker.runReplayHistory` would take the parsed JSON itself, but converts it with
 * @temporalio/common's `historyFromJSON`, which fails in this install ("type must be a Type"):
 * npm gives @temporalio/common and @temporalio/proto (1.24) each their own copy of protobufjs 8,
 * and protobufjs's protojson refuses the other copy's types. So this converts with the
 * protojson of @temporalio/proto's copy, the one its types come from.
 */
export function historyFromStoredJSON(json: unknown): History {
  const { fromJson, historyType } = protojson();
  const history = fromJson(historyType, json, { ignoreUnknownFields: true }) as History | null;
  if (!history?.events?.length) throw new TypeError('not a workflow history (no events)');
  return history;
}

/** The workflow type a history is of, from its first event. */
export function workflowTypeOf(history: History): string {
  const name = history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
  if (!name) throw new TypeError('the history does not start with WorkflowExecutionStarted');
  return name;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * A history as stored: what `historyToJSON` of @temporalio/common writes (proto JSON, as
 * `temporal workflow show --output json` does), with this machine's paths in stack traces made
 * relative to the project. Not that function itself, for the reason above; this uses
 * @temporalio/proto's copy of protobufjs.
 */
export function storedHistoryJson(history: History): string {
  const { toJson, historyType } = protojson();
  const json = JSON.stringify(toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history)), null, 2);
  return `${json.replaceAll(`${ROOT.replace(/\/$/, '')}/`, '')}\n`;
}
