// Gzip of one rotated file, streaming (constant memory whatever its size).
// Crash-safe by ordering: the .gz is written under a `.partial` name, fsync'd,
// given the original's mtime (retention by age reads it), renamed into place,
// and only then is the original removed. A crash at any point leaves either
// the original, or both (the start-up scan then removes the original).

import { constants } from 'node:fs'
import { open, rename, unlink, utimes } from 'node:fs/promises'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'

/** Compresses `src` to `src.gz` (mode `mode`), then removes `src`. */
export async function gzipFile(src: string, mode: number): Promise<void> {
  const gz = `${src}.gz`
  const partial = `${gz}.partial`
  const input = await open(src, constants.O_RDONLY | constants.O_NOFOLLOW)
  const st = await input.stat().catch(async (err) => {
    await input.close()
    throw err
  })
  let output: Awaited<ReturnType<typeof open>>
  try {
    output = await open(
      partial,
      constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
      mode,
    )
  } catch (err) {
    await input.close()
    throw err
  }
  try {
    // Both streams close their handles; `flush` fsyncs the .gz before its close.
    await pipeline(input.createReadStream(), createGzip(), output.createWriteStream({ flush: true }))
    await utimes(partial, st.atime, st.mtime)
    await rename(partial, gz)
  } catch (err) {
    await unlink(partial).catch(() => {})
    throw err
  }
  await unlink(src)
}
