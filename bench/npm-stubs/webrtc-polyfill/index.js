// Stand-in for webrtc-polyfill without WebRTC (see package.json): every export is undefined,
// as in a browser without WebRTC, so simple-peer reports WEBRTC_SUPPORT = false.
export const RTCPeerConnection = undefined
export const RTCSessionDescription = undefined
export const RTCIceCandidate = undefined
export const RTCIceTransport = undefined
export const RTCDataChannel = undefined
export const RTCSctpTransport = undefined
export const RTCDtlsTransport = undefined
export const RTCCertificate = undefined
export const MediaStream = undefined
export const MediaStreamTrack = undefined
export default {}
