// A user's operator as a plain factory: (options) => OperatorFunction.
import { map } from 'rxjs'

export default function upper({ prefix = '' } = {}) {
  return map((entry) => ({ ...entry, msg: `${prefix}${entry.msg.toUpperCase()}` }))
}
