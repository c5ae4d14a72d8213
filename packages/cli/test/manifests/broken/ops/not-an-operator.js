// A module whose default export is not an operator: the CLI must refuse it.
export default 'not an operator'
