package auth

import (
	"fmt"
	"math"
)

// MinTokenBits is the least entropy, in bits, a chosen admin token must
// have: out of reach of any guessing, at any rate, for good.
const MinTokenBits = 128

// makeToken says how to make a token that passes.
const makeToken = "make one with: openssl rand -base64 32 (or: head -c 32 /dev/urandom | base64)"

// CheckTokenStrength returns an error wrapping ErrWeakToken, which says how
// to make a good one, if token has less than MinTokenBits by TokenBits or
// is repetitive.
func CheckTokenStrength(token string) error {
	if n := len(token); repeats(token)*3 > n {
		return fmt.Errorf("%w: it repeats itself (runs such as aaa, abc or 123, or pieces seen before); %s", ErrWeakToken, makeToken)
	}
	if bits := TokenBits(token); bits < MinTokenBits {
		return fmt.Errorf("%w: %d characters of this kind carry at most %.0f bits of entropy, and %d are needed (22 random base64 characters or more); %s",
			ErrWeakToken, len(token), bits, MinTokenBits, makeToken)
	}
	return nil
}

// TokenBits estimates the entropy of token from its length and the classes
// of its characters, as if each were drawn at random from the classes seen:
// digits (10), lower case (26), upper case (26); digits and the letters a-f
// of one case alone count as hex (16). Any other byte adds 2, as base64's
// "+" and "/" do: a symbol shows that a larger alphabet was possible, not
// that it was used. Words count as random letters, so passphrases are
// overrated.
func TokenBits(token string) float64 {
	var digit, lower, upper, other bool
	lowerHex, upperHex := true, true
	for i := range len(token) {
		switch c := token[i]; {
		case c >= '0' && c <= '9':
			digit = true
		case c >= 'a' && c <= 'z':
			lower = true
			lowerHex = lowerHex && c <= 'f'
		case c >= 'A' && c <= 'Z':
			upper = true
			upperHex = upperHex && c <= 'F'
		default:
			other = true
		}
	}
	pool := 0
	switch {
	case lower && !upper && lowerHex, upper && !lower && upperHex:
		pool = 16
	default:
		for _, class := range []struct {
			seen bool
			size int
		}{{digit, 10}, {lower, 26}, {upper, 26}} {
			if class.seen {
				pool += class.size
			}
		}
	}
	if other {
		pool += 2
	}
	if pool < 2 {
		return 0
	}
	return float64(len(token)) * math.Log2(float64(pool))
}

// repeats counts the bytes of token that a guesser would predict: one that
// continues the step of the two before it ("aaa", "abc", "135") or ends a
// three-byte piece seen earlier ("abcabc"). A random token of 22 or more
// characters has few: each byte continues a step by chance once in the
// size of its alphabet.
func repeats(token string) int {
	n := 0
	seen := make(map[string]bool, len(token))
	for i := 2; i < len(token); i++ {
		if i >= 3 {
			seen[token[i-3:i]] = true
		}
		if int(token[i])-int(token[i-1]) == int(token[i-1])-int(token[i-2]) || seen[token[i-2:i+1]] {
			n++
		}
	}
	return n
}
