// Token ids of the SentencePiece layout `nast prep` trains (src/text/train.ts, fairseq's): the autoregressive
// decoder's input starts with </s> = 2 and a translation ends with it (fairseq prev_output_tokens = [</s>, y_1..y_U],
// target = [y_1..y_U, </s>]); <pad> = 1 fills the rows of shorter targets. (<s> = 0 is CTC's blank.)
export const EOS_ID = 2;
export const PAD_ID = 1;
