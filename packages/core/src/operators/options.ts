// Option errors of the plain operator functions. The manifest path validates
// with each definition's zod schema first; these catch the same mistakes when
// an operator is called directly, with the same error code.

import { LogkitError } from '../errors.js'

/** A LOGKIT_ERR_OPTIONS_INVALID error about one option of one operator. */
export function invalidOption(operator: string, option: string, message: string): LogkitError {
  return new LogkitError(
    'LOGKIT_ERR_OPTIONS_INVALID',
    `operator "${operator}": option "${option}": ${message}`,
    {
      details: { name: operator, kind: 'operator', issues: [{ path: option.split('.'), message }] },
    },
  )
}
