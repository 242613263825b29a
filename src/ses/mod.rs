//! GB/T 38540 electronic seals (`SES_Seal`) and seal signatures (`SES_Signature`), SM2/SM3:
//! encoding, decoding (v4, and the GM/T 0031 v1 and v5 layouts for reading), signing and
//! verifying. No I/O.
