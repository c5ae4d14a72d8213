// Errors as JSON, the shape pino's standard serializer gives them:
// { type, message, stack, ...own enumerable properties, cause }.

export interface SerializedError {
  type: string
  message: string
  stack?: string
  cause?: SerializedError | unknown
  [key: string]: unknown
}

export function serializeError(err: Error, seen: Set<Error> = new Set()): SerializedError {
  seen.add(err)
  const out: SerializedError = { type: err.constructor?.name || err.name || 'Error', message: err.message }
  if (err.stack !== undefined) out.stack = err.stack
  for (const key of Object.keys(err)) {
    if (key === 'cause' || key in out) continue
    const value = (err as unknown as Record<string, unknown>)[key]
    out[key] = value instanceof Error ? (seen.has(value) ? '[Circular]' : serializeError(value, seen)) : value
  }
  const cause = (err as { cause?: unknown }).cause
  if (cause !== undefined) {
    out.cause =
      cause instanceof Error ? (seen.has(cause) ? '[Circular]' : serializeError(cause, seen)) : cause
  }
  return out
}
