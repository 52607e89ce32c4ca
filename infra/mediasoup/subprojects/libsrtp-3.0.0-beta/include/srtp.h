/* mediasoup >= 3.16 calls the libsrtp 3 API; Debian has libsrtp 2.5. This <srtp.h>
 * wraps <srtp2/srtp.h> and adds C++ overloads with the libsrtp 3 signatures. */
#ifndef MS_SRTP3_ON_SRTP2_SHIM_H
#define MS_SRTP3_ON_SRTP2_SHIM_H
#include <srtp2/srtp.h>
#ifdef __cplusplus
#include <climits>
#include <cstring>
#define srtp_err_status_buffer_small (static_cast<srtp_err_status_t>(28))
#define srtp_err_status_cryptex_err (static_cast<srtp_err_status_t>(29))
namespace ms_srtp3_shim {
inline srtp_err_status_t Run(bool protect, bool rtcp, srtp_t ctx, const uint8_t* in,
  size_t inLen, uint8_t* out, size_t* outLen)
{
	/* libsrtp 2 works in place and appends up to SRTP_MAX_TRAILER_LEN (+4 for SRTCP). */
	const size_t extra = protect ? SRTP_MAX_TRAILER_LEN + (rtcp ? 4 : 0) : 0;
	if (inLen > static_cast<size_t>(INT_MAX) - extra || *outLen < inLen + extra)
		return srtp_err_status_buffer_small;
	if (out != in)
		std::memmove(out, in, inLen);
	int len = static_cast<int>(inLen);
	void* p = out;
	const srtp_err_status_t err = protect ? (rtcp ? ::srtp_protect_rtcp(ctx, p, &len) : ::srtp_protect(ctx, p, &len))
	                                      : (rtcp ? ::srtp_unprotect_rtcp(ctx, p, &len) : ::srtp_unprotect(ctx, p, &len));
	if (err == srtp_err_status_ok)
		*outLen = static_cast<size_t>(len);
	return err;
}
} // namespace ms_srtp3_shim
/* mki_index ignored: mediasoup never configures MKI and always passes 0. */
inline srtp_err_status_t srtp_protect(srtp_t c, const uint8_t* i, size_t il, uint8_t* o, size_t* ol, size_t)
{ return ms_srtp3_shim::Run(true, false, c, i, il, o, ol); }
inline srtp_err_status_t srtp_protect_rtcp(srtp_t c, const uint8_t* i, size_t il, uint8_t* o, size_t* ol, size_t)
{ return ms_srtp3_shim::Run(true, true, c, i, il, o, ol); }
inline srtp_err_status_t srtp_unprotect(srtp_t c, const uint8_t* i, size_t il, uint8_t* o, size_t* ol)
{ return ms_srtp3_shim::Run(false, false, c, i, il, o, ol); }
inline srtp_err_status_t srtp_unprotect_rtcp(srtp_t c, const uint8_t* i, size_t il, uint8_t* o, size_t* ol)
{ return ms_srtp3_shim::Run(false, true, c, i, il, o, ol); }
/* renamed in libsrtp 3; ssrc in network byte order in both */
inline srtp_err_status_t srtp_stream_remove(srtp_t s, uint32_t ssrc) { return ::srtp_remove_stream(s, ssrc); }
#endif
#endif
