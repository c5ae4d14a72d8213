// A plugin's own status (Sink.status(), a source's SourceStatus) is its code
// running inside `logkit status` and inside a pipeline's close: a throw there
// must not take either down. It becomes the status, saying what went wrong.

/** The plugin's status, or `{ error }` with what its status() threw. */
export function pluginStatus(status: () => Record<string, unknown>): Record<string, unknown> {
  try {
    return status()
  } catch (err) {
    return { error: `status() failed: ${err instanceof Error ? err.message : String(err)}` }
  }
}
