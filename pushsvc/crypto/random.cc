#include "pushsvc/crypto/random.h"

#include <openssl/rand.h>

#include <climits>
#include <cstdlib>

namespace pushsvc::crypto {

std::string random_bytes(std::size_t n) {
    std::string out(n, '\0');
    std::size_t done = 0;
    while (done < n) {
        // RAND_bytes takes an int length; fill very large requests in slices.
        const std::size_t chunk = std::min<std::size_t>(n - done, INT_MAX);
        if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data() + done),
                       static_cast<int>(chunk)) != 1)
            std::abort();
        done += chunk;
    }
    return out;
}

}  // namespace pushsvc::crypto
