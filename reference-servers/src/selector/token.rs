//! How the selector loop names what it waits on: the fixed tokens of the
//! listener, the shutdown source and the alarm, and a connection's [`Key`]
//! (its slot and its generation) packed into a `mio` [`Token`].
//!
//! Slots are reused as soon as a connection closes, so a slot alone cannot
//! tell a connection from the one that held the slot before it: an event or
//! a timer meant for a closed connection would reach its successor. The
//! generation in every token and timer lets the loop ignore those.

use mio::Token;

/// The listening socket.
pub(super) const LISTENER: Token = Token(0);
/// The shutdown source: the signalfd, or a [`mio::Waker`] in tests.
pub(super) const STOP: Token = Token(1);
/// The timerfd that fires at the next timer deadline.
pub(super) const ALARM: Token = Token(2);
/// Slot `s` is `s + FIRST_CONNECTION` in a token's low bits, so no
/// connection token equals a fixed one.
const FIRST_CONNECTION: usize = 3;

/// A token's low half holds the slot, its high half the generation's low
/// bits: half of a 64-bit token still names four billion slots, and two
/// connections in one slot four billion connections apart are never both
/// alive in one batch of events.
const SLOT_BITS: u32 = usize::BITS / 2;
const SLOT_MASK: usize = (1 << SLOT_BITS) - 1;
/// Slots a token can name.
pub(super) const MAX_SLOTS: usize = SLOT_MASK + 1 - FIRST_CONNECTION;

/// One connection, told apart from every other that held or will hold its
/// slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Key {
    pub(super) slot: usize,
    /// Counts connections accepted before this one; never reused.
    pub(super) generation: u64,
}

impl Key {
    /// The token the connection's socket is registered with. `slot` must be
    /// below [`MAX_SLOTS`].
    pub(super) fn token(self) -> Token {
        debug_assert!(self.slot < MAX_SLOTS, "slot {} has no token", self.slot);
        // The shift drops the generation's high bits (see SLOT_BITS).
        let generation = (self.generation as usize) << SLOT_BITS;
        Token(generation | (self.slot + FIRST_CONNECTION))
    }
}

/// The slot a connection token names; `None` for a fixed token.
pub(super) fn slot_of(token: Token) -> Option<usize> {
    (token.0 & SLOT_MASK).checked_sub(FIRST_CONNECTION)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_slot_and_tells_generations_apart() {
        let generations = [0, 1, 2, u64::from(u32::MAX), u64::MAX - 1];
        for slot in [0, 1, 1000, MAX_SLOTS - 1] {
            for generation in generations {
                let key = Key { slot, generation };
                let token = key.token();
                assert_eq!(slot_of(token), Some(slot), "{key:?}");
                assert!(
                    ![LISTENER, STOP, ALARM].contains(&token),
                    "{key:?} is {token:?}, a fixed token"
                );
                let next = Key {
                    generation: generation + 1,
                    ..key
                };
                assert_ne!(token, next.token(), "{key:?} and its successor");
            }
        }
        for fixed in [LISTENER, STOP, ALARM] {
            assert_eq!(slot_of(fixed), None, "{fixed:?}");
        }
    }
}
