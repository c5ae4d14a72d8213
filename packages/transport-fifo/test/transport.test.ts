// The producer transport on its own, in this process, against a pipe the test
// reads itself: buffering while no collector is there, the bound and its
// policies, reconnecting and replaying after the reader goes away, hello and
// heartbeats, and the errors it reports instead of throwing.

import { spawn } from 'node:child_process'
import { closeSync, constants, existsSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { Socket } from 'node:net'
import { join } from 'node:path'
import {
  acquireSession,
  createLogger,
  type Frame,
  FrameDecoder,
  type HeartbeatFrame,
  type LogEntry,
  runtimePaths,
} from '@logkit/core'
import t from 'tap'
import { fifo } from '../src/index.js'
import { mkfifo } from '../src/mkfifo.js'
import { runtimeEnv, sleep, waitFor } from './helpers.js'

/** A stand-in collector: reads one pipe with a socket, opens it again when a writer leaves, decodes every frame. */
class Reader {
  readonly frames: Frame[] = []
  readonly decoder = new FrameDecoder({ onFrame: (f) => this.frames.push(f) })
  socket: Socket | undefined

  open(path: string): void {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
    const socket = new Socket({ fd, readable: true, writable: false })
    socket.on('data', (chunk: Buffer) => this.decoder.push(chunk))
    socket.on('end', () => {
      if (this.socket === socket) this.open(path)
    })
    this.socket = socket
  }

  close(): void {
    const socket = this.socket
    this.socket = undefined
    socket?.destroy()
  }

  get entries(): LogEntry[] {
    return this.frames.flatMap((f) => (f.type === 'batch' ? f.entries : []))
  }

  count(type: Frame['type']): number {
    return this.frames.filter((f) => f.type === type).length
  }
}

/** A session that says a fifo collector listens, without any source reading. */
function session(env: { LOGKIT_RUNTIME_DIR: string }, app: string) {
  const handle = acquireSession(app, env)
  handle.session.setTransport('fifo', { dir: handle.session.paths.appDir })
  return handle
}

t.test('options are validated: a bad option or app name throws with its code', (t) => {
  const env = runtimeEnv()
  t.throws(
    () => fifo({ app: 'a', env, bufferBytes: -1 }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'bufferBytes',
  )
  t.throws(
    () => fifo({ app: 'a', env, policy: 'wait' as never }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'policy',
  )
  t.throws(
    () => fifo({ app: '../etc', env }),
    { code: 'LOGKIT_ERR_APP_NAME_INVALID' },
    'an app that is no name',
  )
  t.end()
})

t.test(
  'with no collector, frames wait in a bounded buffer; what does not fit is refused and counted',
  async (t) => {
    const env = runtimeEnv()
    const transport = fifo({ app: 'lonely', env, bufferBytes: 4096, heartbeatMs: 0, closeTimeoutMs: 50 })
    const log = createLogger({ app: 'lonely', transport })
    for (let i = 0; i < 200; i++) log.info({ i }, 'waiting %d', i)
    const stats = transport.stats()
    t.notOk(stats.connected, 'not connected')
    t.ok(stats.bufferedBytes <= 4096, 'never more than the bound is held')
    t.ok(stats.dropped > 0, 'frames were refused')
    t.equal(log.stats.dropped, stats.dropped, 'the logger counted exactly the refused frames')
    t.equal(log.stats.written + log.stats.dropped, 200, 'every call accepted or counted')
    await log.flush()
    t.pass('flush() does not wait when there is no collector to wait for')
    await log.close()
    t.ok(transport.stats().abandonedBytes > 0, 'close() says how much it could not deliver')
    t.notOk(transport.write(new Uint8Array(20)), 'a write after close is refused')
  },
)

t.test(
  'a pipe per logger: the name says source and pid; a second logger of one source gets its own',
  async (t) => {
    const env = runtimeEnv()
    const handle = session(env, 'names')
    const dir = runtimePaths('names', env).appDir
    const a = fifo({ app: 'names', env, source: 'web/api', heartbeatMs: 0 })
    const b = fifo({ app: 'names', env, source: 'web/api', heartbeatMs: 0 })
    // Each pipe is made on its own (mkfifo runs as a child process): wait for both.
    await waitFor(
      () =>
        a.stats().path &&
        b.stats().path &&
        existsSync(a.stats().path as string) &&
        existsSync(b.stats().path as string),
      'both pipes made',
    )
    t.equal(a.stats().path, join(dir, `web_api.${process.pid}.fifo`), 'SOURCE.PID.fifo, the source made safe')
    t.equal(b.stats().path, join(dir, `web_api-2.${process.pid}.fifo`), 'the second one is numbered')
    const st = statSync(a.stats().path as string)
    t.ok(st.isFIFO(), 'it is a named pipe')
    t.equal(st.mode & 0o777, 0o600, 'private to its user')
    await Promise.all([a.close(), b.close()])
    handle.release()
  },
)

t.test(
  'the reader comes and goes: hello first on every connection, the replay fills what died with the pipe',
  async (t) => {
    const env = runtimeEnv()
    const handle = session(env, 'flaky')
    const transport = fifo({ app: 'flaky', env, source: 'w', heartbeatMs: 0, retryMs: 20 })
    const log = createLogger({ app: 'flaky', source: 'w', transport })
    for (let i = 1; i <= 100; i++) log.info('early %d', i)
    const path = await waitFor(
      () => existsSync(transport.stats().path ?? '') && transport.stats().path,
      'the pipe',
    )
    t.notOk(transport.stats().connected, 'nobody reads yet (ENXIO): it keeps the frames')

    const first = new Reader()
    first.open(path)
    await waitFor(() => first.entries.length === 100, 'the buffered entries')
    t.equal(first.frames[0]?.type, 'hello', 'the hello opens the connection')
    t.same(
      first.entries.map((e) => e.seq),
      Array.from({ length: 100 }, (_, i) => i + 1),
      'then everything buffered, in order',
    )

    // The reader vanishes with whatever it had not read; the producer notices on its next write.
    first.close()
    for (let i = 101; i <= 150; i++) log.info('late %d', i)
    await waitFor(
      () => !transport.stats().connected,
      'the broken pipe noticed (EPIPE), and the process lives on',
    )

    const second = new Reader()
    second.open(path)
    await waitFor(() => second.entries.some((e) => e.seq === 150), 'the entries logged meanwhile')
    t.equal(second.frames[0]?.type, 'hello', 'a new connection starts with the hello again')
    const seqs = second.entries.map((e) => e.seq)
    t.ok(
      seqs[0] !== undefined && seqs[0] <= 100,
      'already-sent frames are replayed (the collector drops them by seq)',
    )
    t.same(
      seqs.slice(seqs.indexOf(101)),
      Array.from({ length: 50 }, (_, i) => i + 101),
      'then the new ones, in order',
    )
    t.ok(transport.stats().connections >= 2, 'it reconnected by itself')
    await log.close()
    await waitFor(() => second.count('goodbye') === 1, 'the goodbye')
    second.close()
    handle.release()
  },
)

t.test('drop_oldest evicts the oldest waiting frames and counts the entries in them', async (t) => {
  const env = runtimeEnv()
  const transport = fifo({ app: 'oldest', env, bufferBytes: 4096, policy: 'drop_oldest', heartbeatMs: 0 })
  const log = createLogger({ app: 'oldest', transport })
  for (let i = 1; i <= 300; i++) log.info({ i }, 'entry %d', i)
  const stats = transport.stats()
  t.equal(stats.dropped, 0, 'nothing new is refused')
  t.equal(log.stats.dropped, 0, 'so the logger counts no drop')
  t.ok(stats.evicted > 0, 'old frames were evicted')
  t.equal(stats.evictedEntries, stats.evicted, 'one entry per evicted frame')
  t.ok(stats.bufferedBytes <= 4096, 'within the bound')

  const handle = session(env, 'oldest')
  const reader = new Reader()
  const path = await waitFor(
    () => existsSync(transport.stats().path ?? '') && transport.stats().path,
    'the pipe',
  )
  reader.open(path)
  await waitFor(() => reader.entries.some((e) => e.seq === 300), 'the newest entry')
  const seqs = reader.entries.map((e) => e.seq)
  t.equal(seqs[0], stats.evictedEntries + 1, 'the oldest entries were the ones evicted')
  t.equal(seqs.length + stats.evictedEntries, 300, 'kept + evicted = logged')
  await log.close()
  reader.close()
  handle.release()
})

t.test('heartbeats promise the next check-in and say the last seq', async (t) => {
  const env = runtimeEnv()
  const handle = session(env, 'beat')
  const transport = fifo({ app: 'beat', env, heartbeatMs: 30, retryMs: 20 })
  const log = createLogger({ app: 'beat', transport })
  log.info('one')
  log.info('two')
  const reader = new Reader()
  reader.open(
    await waitFor(() => existsSync(transport.stats().path ?? '') && transport.stats().path, 'the pipe'),
  )
  await waitFor(() => reader.count('heartbeat') >= 3, 'a few heartbeats')
  const beat = reader.frames
    .filter((f): f is HeartbeatFrame => f.type === 'heartbeat')
    .at(-1) as HeartbeatFrame
  t.equal(beat.lastSeq, 2, 'the last seq logged')
  t.equal(beat.next - beat.now, 30_000_000n, 'the next check-in is one interval away')
  await log.close()
  reader.close()
  handle.release()
})

t.test(
  'a collector that was replaced is noticed by the heartbeat, and the new one gets a hello',
  async (t) => {
    const env = runtimeEnv()
    const paths = runtimePaths('moved', env)
    const handle = session(env, 'moved')
    // A session file naming another live process as collector: the one that "replaced" this one.
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' })
    t.teardown(() => {
      other.kill()
    })
    const transport = fifo({ app: 'moved', env, heartbeatMs: 30, retryMs: 20 })
    const log = createLogger({ app: 'moved', transport })
    log.info('before')
    const reader = new Reader()
    const path = await waitFor(
      () => existsSync(transport.stats().path ?? '') && transport.stats().path,
      'the pipe',
    )
    reader.open(path)
    await waitFor(() => reader.entries.length === 1, 'the first entry')
    const info = JSON.parse(readFileSync(paths.sessionFile, 'utf8'))
    writeFileSync(paths.sessionFile, JSON.stringify({ ...info, pid: other.pid }), { mode: 0o600 })
    await waitFor(() => reader.count('hello') >= 2, 'a second hello on the same pipe')
    t.ok(transport.stats().connections >= 2, 'it reconnected')
    await log.close()
    reader.close()
    handle.release()
  },
)

t.test('what cannot be a pipe is reported, not thrown; mkfifo failures carry their code', async (t) => {
  const env = runtimeEnv()
  const handle = session(env, 'blocked')
  const planted = join(runtimePaths('blocked', env).appDir, `x.${process.pid}.fifo`)
  closeSync(openSync(planted, 'w', 0o600))
  const errors: Error[] = []
  const transport = fifo({
    app: 'blocked',
    env,
    source: 'x',
    heartbeatMs: 0,
    retryMs: 20,
    onError: (e) => errors.push(e),
  })
  t.ok(transport.write(new Uint8Array(40)), 'writes are still buffered')
  await waitFor(() => errors.length > 0, 'the error')
  t.match(errors[0], { code: 'LOGKIT_ERR_FIFO_NOT_A_PIPE' }, 'a regular file where the pipe should be')
  t.equal(transport.stats().lastError, errors[0], 'and kept in stats')
  await transport.close()
  handle.release()

  await t.rejects(
    mkfifo(join(runtimePaths('blocked', env).appDir, 'y.1.fifo'), 'logkit-no-such-mkfifo'),
    { code: 'LOGKIT_ERR_FIFO_MKFIFO_FAILED' },
    'a missing mkfifo command',
  )
  await mkfifo(planted)
  t.pass('mkfifo over an existing path resolves: opening it checks what it is')
  const warnings: unknown[] = []
  const onWarning = (w: unknown) => warnings.push(w)
  process.on('warning', onWarning)
  const noisy = fifo({ app: 'blocked', env, source: 'x', heartbeatMs: 0, retryMs: 20 })
  const h2 = session(env, 'blocked')
  await waitFor(() => warnings.length > 0, 'a process warning when no onError is given')
  process.off('warning', onWarning)
  t.match(
    warnings[0],
    { code: 'LOGKIT_ERR_FIFO_NOT_A_PIPE' },
    'the default reports a process warning with the code',
  )
  await noisy.close()
  h2.release()
})

t.test(
  'flush() waits for an announced collector to take the data; close() gives up after its bound',
  async (t) => {
    const env = runtimeEnv()
    const handle = session(env, 'patient')
    const transport = fifo({ app: 'patient', env, heartbeatMs: 0, retryMs: 20, flushTimeoutMs: 60_000 })
    const log = createLogger({ app: 'patient', transport })
    log.info('waiting for a reader')
    let flushed = false
    const flushing = log.flush().then(() => {
      flushed = true
    })
    const path = await waitFor(
      () => existsSync(transport.stats().path ?? '') && transport.stats().path,
      'the pipe',
    )
    await sleep(50)
    t.notOk(flushed, 'flush() is still waiting while the collector has not opened the pipe')
    const reader = new Reader()
    reader.open(path)
    await flushing
    t.equal(transport.stats().bufferedBytes, 0, 'it resolved once the entry was in the pipe')
    await waitFor(() => reader.entries.length === 1, 'the entry read')
    await log.close()
    reader.close()

    const stuck = fifo({ app: 'patient', env, heartbeatMs: 0, retryMs: 20, closeTimeoutMs: 50 })
    const log2 = createLogger({ app: 'patient', source: 'stuck', transport: stuck })
    log2.info('nobody reads this pipe')
    await log2.close()
    t.ok(stuck.stats().abandonedBytes > 0, 'close() gave up after its bound and says what was left')
    handle.release()
  },
)
