// The `smpp` npm package ships no types. Tests and benches use it as an independent SMPP peer
// and reach it through test/helpers/esme.ts, which gives its calls their shapes.
declare module 'smpp' {
  const smpp: unknown;
  export default smpp;
}
